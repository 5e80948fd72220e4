// A fake Office.js for the add-in's browser tests.
//
// Holds one workbook in memory (window.__FAKE_WORKBOOK__, set by the test before
// this script runs) and implements only the Office.js / Excel API surface used by
// the add-in's own JS (static/rubric/*.js, static/js/ribbon.js) and by the parts
// of the xlwings JS client it calls (getBookData, runActions with setValues and
// setRangeColor, init/xw-click, printSupportedApiVersions, taskpane-reload).
// Anything else throws, so an unexpected dependency shows up as a test failure.
//
// Every proxy is "always loaded": load() returns the object, context.sync()
// resolves, properties are read live.  window.__fakeExcel is the test's handle:
// edit cells like a user (firing change events), read values and fills, read the
// selection, invoke custom functions and ribbon commands.
(function () {
  "use strict";
  const source = window.__FAKE_WORKBOOK__;
  if (!source) throw new Error("fake office.js: window.__FAKE_WORKBOOK__ is not set");

  // ------------------------------------------------------------- addresses
  function colNum(letters) {
    let n = 0;
    for (const ch of letters) n = n * 26 + (ch.charCodeAt(0) - 64);
    return n - 1;
  }
  function colName(index) {
    let name = "";
    for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) {
      name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
    }
    return name;
  }
  function parseCell(a) {
    const m = /^\$?([A-Z]+)\$?(\d+)$/.exec(a.trim().toUpperCase());
    if (!m) throw fail("InvalidArgument", `bad address ${a}`);
    return { r: parseInt(m[2], 10) - 1, c: colNum(m[1]) };
  }
  function parseRange(address) {
    const a = address.includes("!") ? address.split("!").pop() : address;
    const [p, q] = a.split(":");
    const s = parseCell(p);
    const e = q ? parseCell(q) : s;
    return { r0: Math.min(s.r, e.r), c0: Math.min(s.c, e.c), r1: Math.max(s.r, e.r), c1: Math.max(s.c, e.c) };
  }
  function a1(r, c) {
    return `${colName(c)}${r + 1}`;
  }
  function sheetRef(name) {
    return /^[\p{L}\p{N}_]+$/u.test(name) ? name : `'${name.replace(/'/g, "''")}'`;
  }
  function fail(code, message) {
    const e = new Error(message);
    e.code = code;
    return e;
  }

  // ------------------------------------------------------------- workbook state
  const events = { changed: [], sheetChanged: new Map() };
  const state = {
    name: source.name || "工作簿.xlsx",
    sheets: [],
    names: [],
    active: 0,
    selection: { sheet: null, address: "A1" },
    functions: new Map(),
    actions: new Map(),
    changes: 0,
  };
  for (const s of source.sheets) {
    const cells = new Map();
    for (const [addr, cell] of Object.entries(s.cells || {})) {
      const { r, c } = parseCell(addr);
      cells.set(`${r},${c}`, { v: cell.v === null || cell.v === undefined ? "" : cell.v, nf: cell.nf || "General", fill: null });
    }
    state.sheets.push({ name: s.name, visibility: s.visibility || "Visible", cells, id: `{sheet-${state.sheets.length}}` });
  }
  for (const n of source.names || []) state.names.push({ ...n });
  state.selection.sheet = state.sheets[0].name;

  function sheetByName(name) {
    return state.sheets.find((s) => s.name === name);
  }
  function cellAt(sheet, r, c, create = false) {
    const key = `${r},${c}`;
    let cell = sheet.cells.get(key);
    if (!cell && create) {
      cell = { v: "", nf: "General", fill: null };
      sheet.cells.set(key, cell);
    }
    return cell;
  }
  function fireChanged(sheet, address) {
    state.changes += 1;
    const args = {
      type: "WorksheetChanged",
      changeType: "RangeEdited",
      source: "Local",
      worksheetId: sheet.id,
      address,
    };
    const handlers = [...events.changed, ...(events.sheetChanged.get(sheet.id) || [])];
    setTimeout(() => handlers.forEach((h) => h(args)), 0);
  }

  // ------------------------------------------------------------- proxies
  class EventSource {
    constructor(list) {
      this.list = list;
    }
    add(handler) {
      this.list.push(handler);
      const list = this.list;
      return { remove() { const i = list.indexOf(handler); if (i >= 0) list.splice(i, 1); }, context: new RequestContext() };
    }
  }

  class Base {
    load() {
      return this;
    }
    get isNullObject() {
      return false;
    }
  }

  class NullObject extends Base {
    get isNullObject() {
      return true;
    }
  }

  class Collection extends Base {
    constructor(items = []) {
      super();
      this._items = items;
    }
    get items() {
      return this._items;
    }
    getItemOrNullObject() {
      return new NullObject();
    }
  }

  class Fill {
    constructor(range) {
      this.range = range;
    }
    get color() {
      const c = cellAt(this.range.sheet, this.range.r0, this.range.c0);
      return (c && c.fill) || "#FFFFFF";
    }
    set color(v) {
      this.range.eachCell((cell) => (cell.fill = String(v)), true);
    }
    clear() {
      this.range.eachCell((cell) => (cell.fill = null), false);
    }
    load() {
      return this;
    }
  }

  class Range extends Base {
    constructor(sheet, r0, c0, r1, c1) {
      super();
      Object.assign(this, { sheet, r0, c0, r1, c1 });
      this.format = { fill: new Fill(this), load() { return this; } };
    }
    eachCell(fn, create) {
      for (let r = this.r0; r <= this.r1; r++) {
        for (let c = this.c0; c <= this.c1; c++) {
          const cell = cellAt(this.sheet, r, c, create);
          if (cell) fn(cell, r, c);
        }
      }
    }
    matrix(get) {
      const out = [];
      for (let r = this.r0; r <= this.r1; r++) {
        const row = [];
        for (let c = this.c0; c <= this.c1; c++) row.push(get(cellAt(this.sheet, r, c)));
        out.push(row);
      }
      return out;
    }
    get localAddress() {
      const first = a1(this.r0, this.c0);
      const last = a1(this.r1, this.c1);
      return first === last ? first : `${first}:${last}`;
    }
    get address() {
      return `${sheetRef(this.sheet.name)}!${this.localAddress}`;
    }
    get rowIndex() {
      return this.r0;
    }
    get columnIndex() {
      return this.c0;
    }
    get rowCount() {
      return this.r1 - this.r0 + 1;
    }
    get columnCount() {
      return this.c1 - this.c0 + 1;
    }
    get values() {
      return this.matrix((cell) => (cell ? cell.v : ""));
    }
    set values(m) {
      const single = !Array.isArray(m);
      for (let r = this.r0; r <= this.r1; r++) {
        for (let c = this.c0; c <= this.c1; c++) {
          const v = single ? m : m[r - this.r0][c - this.c0];
          cellAt(this.sheet, r, c, true).v = v === null || v === undefined ? "" : v;
        }
      }
      fireChanged(this.sheet, this.localAddress);
    }
    get formulas() {
      return this.values;
    }
    get numberFormat() {
      return this.matrix((cell) => (cell ? cell.nf : "General"));
    }
    set numberFormat(m) {
      this.eachCell((cell, r, c) => (cell.nf = m[r - this.r0]?.[c - this.c0] ?? m[0][0]), true);
    }
    get worksheet() {
      return new Worksheet(this.sheet);
    }
    select() {
      state.active = state.sheets.indexOf(this.sheet);
      state.selection = { sheet: this.sheet.name, address: this.localAddress };
    }
    getOffsetRange(dr, dc) {
      return new Range(this.sheet, this.r0 + dr, this.c0 + dc, this.r1 + dr, this.c1 + dc);
    }
  }

  class Worksheet extends Base {
    constructor(sheet) {
      super();
      this.sheet = sheet;
      this.names = new Collection([]);
      this.tables = new Collection([]);
      this.charts = new Collection([]);
      this.shapes = new Collection([]);
      this.pivotTables = new Collection([]);
      this.pageLayout = { getPrintAreaOrNullObject: () => new NullObject() };
      if (!events.sheetChanged.has(sheet.id)) events.sheetChanged.set(sheet.id, []);
      this.onChanged = new EventSource(events.sheetChanged.get(sheet.id));
      this.onSelectionChanged = new EventSource([]);
    }
    get name() {
      return this.sheet.name;
    }
    get id() {
      return this.sheet.id;
    }
    get visibility() {
      return this.sheet.visibility;
    }
    get showGridlines() {
      return true;
    }
    get position() {
      return state.sheets.indexOf(this.sheet);
    }
    activate() {
      state.active = this.position;
    }
    getRange(address) {
      const { r0, c0, r1, c1 } = parseRange(address || "A1");
      return new Range(this.sheet, r0, c0, r1, c1);
    }
    getRangeByIndexes(r, c, rows, cols) {
      return new Range(this.sheet, r, c, r + rows - 1, c + cols - 1);
    }
    getUsedRangeOrNullObject() {
      let b = null;
      for (const [key, cell] of this.sheet.cells) {
        if (cell.v === "" || cell.v === null) continue;
        const [r, c] = key.split(",").map(Number);
        b = b
          ? { r0: Math.min(b.r0, r), c0: Math.min(b.c0, c), r1: Math.max(b.r1, r), c1: Math.max(b.c1, c) }
          : { r0: r, c0: c, r1: r, c1: c };
      }
      return b ? new Range(this.sheet, b.r0, b.c0, b.r1, b.c1) : new NullObject();
    }
  }

  class NamedItem extends Base {
    constructor(n) {
      super();
      this.n = n;
    }
    get name() {
      return this.n.name;
    }
    get type() {
      return "Range";
    }
    get formula() {
      const p = parseRange(this.n.address);
      const abs = (r, c) => `$${colName(c)}$${r + 1}`;
      const a = p.r0 === p.r1 && p.c0 === p.c1 ? abs(p.r0, p.c0) : `${abs(p.r0, p.c0)}:${abs(p.r1, p.c1)}`;
      return `=${sheetRef(this.n.sheet)}!${a}`;
    }
    getRangeOrNullObject() {
      const sheet = sheetByName(this.n.sheet);
      if (!sheet) return new NullObject();
      const p = parseRange(this.n.address);
      return new Range(sheet, p.r0, p.c0, p.r1, p.c1);
    }
  }

  class WorksheetCollection extends Base {
    constructor() {
      super();
      this.onChanged = new EventSource(events.changed);
      this.onCalculated = new EventSource([]);
    }
    get items() {
      return state.sheets.map((s) => new Worksheet(s));
    }
    getItem(name) {
      const s = sheetByName(name);
      if (!s) throw fail("ItemNotFound", `没有工作表 ${name}`);
      return new Worksheet(s);
    }
    getItemOrNullObject(name) {
      const s = sheetByName(name);
      return s ? new Worksheet(s) : new NullObject();
    }
    getActiveWorksheet() {
      return new Worksheet(state.sheets[state.active]);
    }
  }

  class Workbook extends Base {
    constructor() {
      super();
      this.worksheets = new WorksheetCollection();
      this.application = {
        calculationMode: "Automatic",
        load() {
          return this;
        },
        calculate() {},
        suspendScreenUpdatingUntilNextSync() {},
      };
    }
    get name() {
      return state.name;
    }
    get names() {
      return new Collection(state.names.map((n) => new NamedItem(n)));
    }
    getSelectedRange() {
      const sheet = sheetByName(state.selection.sheet);
      const p = parseRange(state.selection.address);
      return new Range(sheet, p.r0, p.c0, p.r1, p.c1);
    }
  }

  class RequestContext {
    constructor() {
      this.workbook = new Workbook();
      this.application = this.workbook.application;
    }
    async sync() {
      await Promise.resolve();
    }
  }

  // ------------------------------------------------------------- globals
  const SUPPORTED = { excelapi: 1.9, sharedruntime: 1.1, customfunctionsruntime: 1.3 };
  function versionNumber(v) {
    const [major, minor] = String(v || "1.1").split(".").map(Number);
    return major + (minor || 0) / 1000;
  }
  const ready = Promise.resolve({ host: "Excel", platform: "PC" });

  window.Office = {
    onReady(cb) {
      if (cb) ready.then(cb);
      return ready;
    },
    context: {
      requirements: {
        isSetSupported(name, version) {
          const max = SUPPORTED[String(name).toLowerCase()];
          return max !== undefined && versionNumber(version) <= versionNumber(String(max));
        },
      },
      diagnostics: undefined,
    },
    actions: {
      associate(name, fn) {
        state.actions.set(name, fn);
      },
    },
    addin: { showAsTaskpane: async () => {} },
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
    EventType: { DialogMessageReceived: "dialogMessageReceived", DialogEventReceived: "dialogEventReceived" },
  };

  window.Excel = {
    async run(a, b) {
      const fn = typeof a === "function" ? a : b;
      return await fn(new RequestContext());
    },
    RequestContext,
    ShapeType: { image: "Image" },
    CalculationType: { full: "Full" },
    SaveBehavior: { save: "Save" },
  };

  class CustomFunctionError extends Error {
    constructor(code, message) {
      super(message);
      this.code = code;
    }
  }
  window.CustomFunctions = {
    associate(id, fn) {
      state.functions.set(String(id).toUpperCase(), fn);
    },
    Error: CustomFunctionError,
    ErrorCode: { invalidValue: "#VALUE!", notAvailable: "#N/A" },
  };

  // ------------------------------------------------------------- test handle
  function serial(iso) {
    const [y, m, d] = iso.split("-").map(Number);
    return (Date.UTC(y, m - 1, d) - Date.UTC(1899, 11, 30)) / 86400000;
  }
  window.__fakeExcel = {
    // A user typing into cells; one change event per call, like a paste.
    setValues(sheetName, entries) {
      const sheet = sheetByName(sheetName);
      if (!sheet) throw fail("ItemNotFound", sheetName);
      for (const [address, value] of Object.entries(entries)) {
        const { r, c } = parseCell(address);
        const cell = cellAt(sheet, r, c, true);
        if (value && typeof value === "object" && "date" in value) {
          cell.v = serial(value.date);
          cell.nf = "yyyy-mm-dd";
        } else {
          cell.v = value === null || value === undefined ? "" : value;
        }
      }
      fireChanged(sheet, Object.keys(entries).join(","));
    },
    value(sheetName, address) {
      const { r, c } = parseCell(address);
      const cell = cellAt(sheetByName(sheetName), r, c);
      return cell ? cell.v : "";
    },
    fill(sheetName, address) {
      const { r, c } = parseCell(address);
      const cell = cellAt(sheetByName(sheetName), r, c);
      return cell ? cell.fill : null;
    },
    selection() {
      return { ...state.selection, activeSheet: state.sheets[state.active].name };
    },
    select(sheetName, address) {
      state.selection = { sheet: sheetName, address };
      state.active = state.sheets.indexOf(sheetByName(sheetName));
    },
    functionIds() {
      return [...state.functions.keys()].sort();
    },
    async invoke(id, args, address) {
      const fn = state.functions.get(id);
      if (!fn) throw new Error(`custom function ${id} is not associated`);
      const matrixArgs = args.map((a) => [[a]]);
      return await fn(...matrixArgs, { address: address || "评分!J1", functionName: id });
    },
    async ribbon(name) {
      const fn = state.actions.get(name);
      if (!fn) throw new Error(`ribbon action ${name} is not associated`);
      await new Promise((resolve) => fn({ completed: resolve }));
    },
    changes() {
      return state.changes;
    },
  };
})();
