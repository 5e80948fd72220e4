// Ribbon button 写入得分 (manifest: FunctionName rubric-write-scores). Replaces
// xlwings Server's example ribbon.js: the project's static files are served first.
async function rubricWriteScores(event) {
  try {
    let auth =
      typeof globalThis.getAuth === "function" ? await globalThis.getAuth() : { token: "", provider: "" };
    await xlwings.runPython({
      scriptName: "write_scores",
      auth: auth.token,
      headers: { "Auth-Provider": auth.provider },
      errorDisplayMode: "taskpane",
    });
  } finally {
    event.completed();
  }
}
Office.actions.associate("rubric-write-scores", rubricWriteScores);
