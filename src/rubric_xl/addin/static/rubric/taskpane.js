// 评分助手 task pane.
//
// Reads the open workbook with the xlwings JS client (globalThis.xlwings, loaded by
// xlwings Server's base.html), posts it to /rubric/score, and shows the engine's
// result: total, grade, provisional state, category subtotals, every item with its
// points and explanation, and the input problems (click one to select its cell).
// Re-scores when the workbook changes (debounced) and on the 重新评分 button.
// Everything shown comes from the server as text; nothing is computed here.

const DEBOUNCE_MS = 600;
// Sheets the score never reads: smaller payloads. Names pointing into them still
// arrive (the workbook's name list is always sent).
const EXCLUDE_SHEETS = "评分,填报说明";

const app = document.getElementById("rubric-app");
const SCORE_URL = window.location.origin + (app?.dataset.scoreUrl || "/rubric/score");
const $ = (id) => document.getElementById(id);

let timer = null;
let running = false;
let again = false;
let scoredCount = 0;

// ---------------------------------------------------------------- localisation
// base.html (xlwings Server) ships a few English strings; users see Chinese only.
const ENGLISH = [
  [/^No response received from server$/, "无法连接评分服务器，请检查网络，或联系管理员。"],
  [/^An error occurred\.?$/, "评分服务器出错，请稍后重试。"],
  [/^Request failed with status (\d+)$/, "评分服务器返回错误（$1）。"],
  [/^Network error$/, "网络错误：无法连接评分服务器。"],
];

function translate(text) {
  for (const [re, zh] of ENGLISH) {
    if (re.test(text)) return text.replace(re, zh);
  }
  return text;
}

function localiseChrome() {
  document.documentElement.lang = "zh-CN";
  document.title = "评分助手";
  const inner = document.querySelector("#xlwings-office-ready-error .xlwings-office-ready-error-inner > div");
  if (inner) inner.textContent = "评分助手未能正常加载。";
  const reload = $("xlwings-taskpane-reload-btn");
  if (reload) reload.textContent = "重新加载";
  const cancel = $("xlwings-taskpane-reload-cancel-btn");
  if (cancel) cancel.textContent = "取消";
  document.querySelectorAll(".btn-close").forEach((b) => b.setAttribute("aria-label", "关闭"));
  const span = document.querySelector("#global-error-alert span");
  if (span) {
    new MutationObserver(() => {
      const zh = translate(span.textContent);
      if (zh !== span.textContent) span.textContent = zh;
    }).observe(span, { childList: true, characterData: true, subtree: true });
  }
}

// ---------------------------------------------------------------- helpers
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

function show(id, on) {
  $(id).classList.toggle("d-none", !on);
}

function setState(text, busy = false) {
  const s = $("rubric-state");
  s.textContent = text;
  s.classList.toggle("rubric-busy", busy);
}

async function xlwingsClient() {
  for (let i = 0; i < 400 && !globalThis.xlwings?.getBookData; i++) {
    await new Promise((r) => setTimeout(r, 25));
  }
  if (!globalThis.xlwings?.getBookData) throw new Error("xlwings 客户端未能加载，请重新打开评分助手。");
  return globalThis.xlwings;
}

async function requestHeaders() {
  const auth = typeof globalThis.getAuth === "function" ? await globalThis.getAuth() : { token: "", provider: "" };
  const headers = { "Content-Type": "application/json" };
  if (auth.token) headers.Authorization = auth.token;
  if (auth.provider) headers["Auth-Provider"] = auth.provider;
  return headers;
}

async function postJson(url, body) {
  let response;
  try {
    response = await fetch(url, { method: "POST", headers: await requestHeaders(), body: JSON.stringify(body) });
  } catch (e) {
    throw new Error("无法连接评分服务器，请检查网络，或联系管理员。");
  }
  let data = null;
  try {
    data = await response.json();
  } catch (e) {
    data = null;
  }
  if (!response.ok) {
    throw new Error((data && (data.message || data.detail)) || `评分服务器返回错误（${response.status}）。`);
  }
  return data;
}

export async function selectCell(sheet, address) {
  await Excel.run(async (context) => {
    const ws = context.workbook.worksheets.getItem(sheet);
    ws.activate();
    ws.getRange(address).select();
    await context.sync();
  });
}

// ---------------------------------------------------------------- scoring
export function scheduleRescore(delay = DEBOUNCE_MS) {
  clearTimeout(timer);
  timer = setTimeout(rescore, delay);
}

export async function rescore() {
  clearTimeout(timer);
  if (running) {
    again = true;
    return;
  }
  running = true;
  setState("正在评分", true);
  try {
    const xl = await xlwingsClient();
    const book = await xl.getBookData({ exclude: EXCLUDE_SHEETS });
    const result = await postJson(SCORE_URL, book);
    render(result);
    scoredCount += 1;
    app.dataset.scored = String(scoredCount);
    const now = new Date();
    setState(`已于 ${now.toLocaleTimeString("zh-CN", { hour12: false })} 评分`);
  } catch (error) {
    showMessage(error?.message || String(error));
    setState("评分失败");
  } finally {
    running = false;
    if (again) {
      again = false;
      scheduleRescore(0);
    }
  }
}

// ---------------------------------------------------------------- rendering
function showMessage(text) {
  const m = $("rubric-message");
  m.textContent = text;
  show("rubric-message", true);
}

function render(r) {
  show("rubric-message", false);
  if (!r.ok) {
    showMessage(r.message);
    ["rubric-summary", "rubric-categories-section", "rubric-items-section", "rubric-ledger-section"].forEach((id) =>
      show(id, false),
    );
    renderIssues(r.issues || []);
    $("rubric-pack").textContent = r.workbook || "";
    return;
  }
  const packLine = [`${r.pack.title}`, `版本 ${r.pack.version}`];
  if (r.unit) packLine.push(`填报单位：${r.unit}`);
  $("rubric-pack").textContent = packLine.join(" · ");
  renderIssues(r.issues);
  if (r.kind === "ledger") {
    renderLedger(r);
    return;
  }
  const summary = $("rubric-summary");
  summary.classList.toggle("provisional", !!r.provisional);
  $("rubric-total").textContent = r.total;
  $("rubric-max").textContent = r.max;
  $("rubric-total-label").textContent = r.provisional ? "暂定总分" : "总分";
  $("rubric-grade").textContent = r.grade ? (r.provisional ? `${r.grade}（暂定）` : r.grade) : "—";
  $("rubric-status").textContent = r.status;
  $("rubric-eligible").textContent =
    r.eligibility_label && r.eligible !== null ? `${r.eligibility_label}：${r.eligible ? "具备" : "不具备"}` : "";
  show("rubric-summary", true);

  const tbody = $("rubric-categories");
  tbody.replaceChildren();
  for (const c of r.categories) {
    const tr = el("tr");
    tr.append(el("td", "", c.complete ? c.name : `${c.name}（暂定）`), el("td", "num", c.points));
    tr.append(el("td", "num", Number(c.max) > 0 ? c.max : "另计"));
    tbody.append(tr);
  }
  show("rubric-categories-section", true);

  const list = $("rubric-items");
  list.replaceChildren();
  for (const it of r.items) {
    const li = el("li", "rubric-item");
    li.dataset.item = it.id;
    li.tabIndex = 0;
    const incomplete = it.status !== "scored";
    if (incomplete) li.classList.add("incomplete");
    else if (it.zeroed || (it.deductions && it.deductions.length)) li.classList.add("deducted");
    const head = el("div", "rubric-item-head");
    head.append(el("span", "rubric-item-title", `${it.id}. ${it.title}`));
    head.append(el("span", "rubric-item-points", incomplete ? `— / ${it.max}` : `${it.points} / ${it.max}`));
    li.append(head, el("div", "rubric-item-explain", it.explanation));
    if (it.sheet && it.address) {
      li.title = `定位到 ${it.ref}`;
      const go = () => selectCell(it.sheet, it.address).catch(() => {});
      li.addEventListener("click", go);
      li.addEventListener("keydown", (e) => e.key === "Enter" && go());
    }
    list.append(li);
  }
  show("rubric-items-section", true);
  show("rubric-ledger-section", false);
}

function renderLedger(r) {
  ["rubric-summary", "rubric-categories-section", "rubric-items-section"].forEach((id) => show(id, false));
  const box = $("rubric-ledger");
  // a pack with several tables sends "tables" (pack order): one paragraph each
  const tables = r.tables || [{ label: "台账", rows: r.rows, errors: r.errors, warnings: r.warnings,
                                rollups: r.rollups, metrics: r.metrics }];
  box.replaceChildren();
  // the pack's checks of the whole submission that fired (e.g. 逾期报送)
  for (const c of r.checks || []) {
    box.append(el("div", "rubric-check", `${c.level === "error" ? "错误" : "提醒"}：${c.msg}`));
  }
  for (const t of tables) {
    box.append(el("div", "", `${t.label}共 ${t.rows.length} 行；错误 ${t.errors} 处，提醒 ${t.warnings} 处。`));
    for (const ru of t.rollups) {
      if (!ru.total) continue;
      const lines = Object.entries(ru.total)
        .filter(([k]) => k !== "key")
        .map(([k, v]) => `${t.metrics[k] || k}：${v === null ? "—" : v === true ? "是" : v === false ? "否" : v}`);
      box.append(el("div", "rubric-muted", `${ru.total.key || ru.label}：${lines.join("；")}`));
    }
  }
  show("rubric-ledger-section", true);
}

function renderIssues(issues) {
  const ul = $("rubric-issues");
  ul.replaceChildren();
  for (const p of issues) {
    const li = el("li", "list-group-item rubric-issue");
    li.dataset.fact = p.fact;
    li.dataset.kind = p.kind;
    li.append(el("span", `rubric-kind ${p.kind}`, p.kind_label));
    if (p.ref) li.append(el("span", "rubric-ref", p.ref));
    li.append(el("span", "rubric-issue-msg", p.msg));
    if (p.sheet && p.address) {
      li.tabIndex = 0;
      li.title = `定位到 ${p.ref}`;
      const go = () => selectCell(p.sheet, p.address).catch((e) => showMessage(`无法定位到 ${p.ref}：${e.message || e}`));
      li.addEventListener("click", go);
      li.addEventListener("keydown", (e) => e.key === "Enter" && go());
    }
    ul.append(li);
  }
  $("rubric-issue-count").textContent = String(issues.length);
  show("rubric-issues-section", issues.length > 0);
}

// ---------------------------------------------------------------- start
async function watchChanges() {
  await Excel.run(async (context) => {
    const onChange = () => scheduleRescore();
    if (Office.context.requirements.isSetSupported("ExcelApi", "1.9")) {
      context.workbook.worksheets.onChanged.add(onChange);
    } else {
      const sheets = context.workbook.worksheets.load("items/name");
      await context.sync();
      for (const ws of sheets.items) ws.onChanged.add(onChange);
    }
    await context.sync();
  });
}

// ---------------------------------------------------------------- outside Excel
// Opened in a browser (or another Office app), the page explains where to open
// the pane instead of failing with "Excel is not defined".
const HOST_NAMES = { Word: "Word", PowerPoint: "PowerPoint", Outlook: "Outlook", OneNote: "OneNote" };

function launchedByOffice() {
  // Office passes _host_Info on the first load and office.js keeps it for the session;
  // Excel on the web shows the pane in a frame.
  let kept = null;
  try {
    kept = sessionStorage.getItem("hostInfoValue");
  } catch (e) {
    kept = null;
  }
  return /[?&]_host_Info=/i.test(window.location.search) || !!kept || window.parent !== window;
}

function showOutsideExcel(host) {
  app.classList.add("d-none");
  document.getElementById("xlwings-office-ready-error")?.remove(); // not a loading failure
  const other = host && HOST_NAMES[host];
  if (other) {
    const note = $("rubric-outside-host");
    note.textContent = `当前在 ${other} 中打开；评分助手只能在 Excel 中使用。`;
    note.classList.remove("d-none");
  }
  $("rubric-outside").classList.remove("d-none");
  document.title = "评分助手：请在 Excel 中打开";
  app.dataset.outside = "1";
}

function inExcel(info) {
  const excel = (typeof Office !== "undefined" && Office.HostType?.Excel) || "Excel";
  return !!info && info.host === excel && typeof Excel !== "undefined";
}

async function officeReady() {
  if (typeof Office === "undefined" || typeof Office.onReady !== "function") return null;
  try {
    return await Office.onReady();
  } catch (e) {
    return null;
  }
}

async function start() {
  localiseChrome();
  $("rubric-rescore").addEventListener("click", () => rescore());
  const byOffice = launchedByOffice();
  if (!byOffice) {
    // a browser tab: no point in xlwings Server's automatic reloads (they would loop)
    try {
      sessionStorage.setItem("xlwingsTaskpaneReloadCount", "1000");
    } catch (e) {
      /* storage unavailable: xlwings then does not reload either */
    }
  }
  const info = await officeReady();
  if (!inExcel(info)) {
    if (info?.host || !byOffice) {
      showOutsideExcel(info?.host);
      return;
    }
    // started by Excel but the host did not attach yet: xlwings Server's reload prompt handles it
    return;
  }
  try {
    await watchChanges();
  } catch (e) {
    showMessage("无法监视工作簿的修改，请在修改后点击“重新评分”。");
  }
  await rescore();
}

if (app) {
  globalThis.rubricPane = { rescore, scheduleRescore, selectCell };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
}
