// Runs firmware code under a 32-bit MicroPython: the official WebAssembly port from npm
// (@micropython/micropython-webassembly-pyscript).  sys.maxsize is 2**31-1 there, so small
// ints hold +-2**30 as on the ESP32, and objects take 32-bit sizes.
//
//   node tests/mp32.mjs JOB.json
// JOB = {"dirs": {"/fw": "/abs/host/firmware", ...}, "path": ["/fw", ...], "chunks": ["code", ...]}
// Every .py/.mpy file of each host dir (and its sub-folders: the packages) is copied into the port's filesystem, `path` is put
// in front of sys.path, then each chunk runs as its own top-level runPython call (a
// gc.collect() only takes effect at the next top-level call: shared/FIELD-NOTES.md).
// The WebAssembly port has no native emitter, so `@micropython.native` and `.viper` are a
// SyntaxError there: those decorator lines are turned into comments (same line numbers),
// and viper's ptr8/16/32 casts become the identity.  The code then
// runs as bytecode, with the same object model (small-int range, boxing) native code has.
// Prints what the code printed; a Python exception goes to stderr with exit status 1.
import fs from "node:fs";
import path from "node:path";
import {loadMicroPython} from "@micropython/micropython-webassembly-pyscript";

const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const out = [];
const mp = await loadMicroPython({stdout: (line) => out.push(line), stderr: (line) => out.push(line),
                                  linebuffer: true});
function copyTree(dest, src) {
  mp.FS.mkdirTree(dest);
  for (const ent of fs.readdirSync(src, {withFileTypes: true})) {
    const name = ent.name;
    if (ent.isDirectory()) {
      if (!name.startsWith(".") && name !== "__pycache__") copyTree(dest + "/" + name, path.join(src, name));
    } else if (name.endsWith(".py")) {
      let text = fs.readFileSync(path.join(src, name), "utf8")
        .replace(/^([ \t]*)@micropython\.native[ \t]*$/gm, "$1# @micropython.native: no native emitter here");
      if (/^[ \t]*@micropython\.viper[ \t]*$/m.test(text)) {
        // Viper as bytecode: its pointer casts become plain indexing (prefixed to line 1).
        text = "ptr8 = ptr16 = ptr32 = (lambda b: b); " + text
          .replace(/^([ \t]*)@micropython\.viper[ \t]*$/gm, "$1# @micropython.viper: no native emitter here");
      }
      mp.FS.writeFile(dest + "/" + name, text);
    } else if (name.endsWith(".mpy")) {
      mp.FS.writeFile(dest + "/" + name, fs.readFileSync(path.join(src, name)));
    }
  }
}
for (const [dest, src] of Object.entries(job.dirs || {})) copyTree(dest, src);
mp.runPython("import sys\nsys.path[:0] = " + JSON.stringify(job.path || []));
let status = 0;
try {
  for (const chunk of job.chunks) {
    mp.runPython(chunk);
  }
} catch (e) {
  status = 1;
  process.stderr.write(String(e && e.message ? e.message : e) + "\n");
}
process.stdout.write(out.join("\n") + (out.length ? "\n" : ""));
process.exitCode = status;
