// Writes a badge file from the coverage summary: core modules only.
import { readFileSync, writeFileSync } from "node:fs";
import path from "path";

const summary = JSON.parse(readFileSync(process.argv[2], "utf8"));
writeFileSync(path.join("badges", "coverage.json"), JSON.stringify({ value: summary.total }));
