// 评分助手 worksheet functions: RUBRIC.ITEM, EXPLAIN, TOTAL, GRADE, CATEGORY, STATUS.
//
// Served by /rubric/functions.js (the function list below is filled in from the
// Python @func declarations) and named in the manifest as the functions' script.
// It runs in the task pane's shared runtime, where the xlwings JS client is loaded.
//
// An Office.js custom function only receives its own arguments, never the
// workbook. The functions are volatile, so Excel re-evaluates them on every
// calculation; the calls of one calculation are collected for a moment, the
// workbook is read once with xlwings.getBookData(), and one request scores it and
// answers every call (/rubric/functions-call). Failures become Chinese text in the
// cell, never a traceback.
(function () {
  "use strict";
  const FUNCTIONS = /*RUBRIC_FUNCTIONS*/[];
  const CALL_URL = window.location.origin + "/*RUBRIC_APP_PATH*//rubric/functions-call";
  const BATCH_MS = 30;
  const EXCLUDE_SHEETS = "评分,填报说明";
  let queue = [];
  let timer = null;
  let requests = 0;

  function runtimeVersion() {
    const req = Office?.context?.requirements;
    for (const v of ["1.4", "1.3", "1.2"]) {
      if (req && req.isSetSupported("CustomFunctionsRuntime", v)) return v;
    }
    return "1.1";
  }

  async function xlwingsClient() {
    for (let i = 0; i < 400 && !globalThis.xlwings?.getBookData; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!globalThis.xlwings?.getBookData) throw new Error("xlwings 客户端未能加载");
    return globalThis.xlwings;
  }

  async function headers() {
    const auth =
      typeof globalThis.getAuth === "function" ? await globalThis.getAuth() : { token: "", provider: "" };
    const h = { "Content-Type": "application/json" };
    if (auth.token) h.Authorization = auth.token;
    if (auth.provider) h["Auth-Provider"] = auth.provider;
    return h;
  }

  async function flush() {
    timer = null;
    const batch = queue;
    queue = [];
    if (!batch.length) return;
    let results = null;
    let failure = "错误：评分服务器没有响应，请检查网络，或联系管理员。";
    try {
      const xl = await xlwingsClient();
      const book = await xl.getBookData({ exclude: EXCLUDE_SHEETS });
      requests += 1;
      const response = await fetch(CALL_URL, {
        method: "POST",
        headers: await headers(),
        body: JSON.stringify({
          book,
          runtime: runtimeVersion(),
          calls: batch.map((c) => ({ func_name: c.func, args: c.args, caller_address: c.address })),
        }),
      });
      const data = await response.json().catch(() => null);
      if (response.ok && data && Array.isArray(data.results)) {
        results = data.results;
      } else if (data && (data.message || data.detail)) {
        failure = "错误：" + (data.message || data.detail);
      }
    } catch (e) {
      console.error(e);
    }
    batch.forEach((c, i) => c.resolve(results && results[i] !== undefined ? results[i] : [[failure]]));
  }

  function make(func) {
    return function () {
      const args = Array.prototype.slice.call(arguments);
      const invocation = args.pop();
      return new Promise((resolve) => {
        queue.push({ func, args, address: invocation && invocation.address ? invocation.address : null, resolve });
        if (!timer) timer = setTimeout(flush, BATCH_MS);
      });
    };
  }

  for (const f of FUNCTIONS) {
    CustomFunctions.associate(f.id, make(f.func));
  }
  globalThis.rubricFunctions = { names: FUNCTIONS.map((f) => f.id), requests: () => requests };
})();
