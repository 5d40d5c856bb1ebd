// Reads the sources and reports style problems; writes nothing.
const fs = require("fs");
const problems = [];
for (const f of fs.readdirSync("src")) {
  if (fs.readFileSync(`src/${f}`, "utf8").includes("\t")) problems.push(f);
}
console.log(problems.join("\n"));
