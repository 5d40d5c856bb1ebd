// Bumps the version and pushes it with the credentials actions/checkout left in git.
const { execSync } = require("child_process");
const fs = require("fs");

const version = fs.readFileSync("VERSION", "utf8").trim();
fs.writeFileSync("VERSION", `${version}.1\n`);
execSync("git commit -am 'Bump version' && git push", { stdio: "inherit" });
