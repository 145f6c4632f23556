// Stands in for Node's built-in modules in the browser bundle of @lowrank/runtime. The runtime reaches
// them only on paths guarded by "is this Node?" (reading folders, wasm threads in Node, the HTTP
// server), which never run in a browser, but a bundler still has to resolve every import.
function unavailable(name: string) {
  return (): never => {
    throw new Error(`${name} is not available in the browser`);
  };
}

export const mkdtempSync = unavailable("fs.mkdtempSync");
export const rmSync = unavailable("fs.rmSync");
export const writeFileSync = unavailable("fs.writeFileSync");
export const existsSync = unavailable("fs.existsSync");
export const readFileSync = unavailable("fs.readFileSync");
export const renameSync = unavailable("fs.renameSync");
export const mkdirSync = unavailable("fs.mkdirSync");
export const readdirSync = unavailable("fs.readdirSync");
export const statSync = unavailable("fs.statSync");
export const mkdir = unavailable("fs.mkdir");
export const mkdtemp = unavailable("fs.mkdtemp");
export const rm = unavailable("fs.rm");
export const rename = unavailable("fs.rename");
export const stat = unavailable("fs.stat");
export const writeFile = unavailable("fs.writeFile");
export const tmpdir = unavailable("os.tmpdir");
export const realpath = unavailable("fs.realpath");
export const realpathSync = unavailable("fs.realpathSync");
export const symlink = unavailable("fs.symlink");
export const readdir = unavailable("fs.readdir");
export const unlink = unavailable("fs.unlink");
export const readFile = unavailable("fs.readFile");
export const open = unavailable("fs.open");
export const createRequire = unavailable("module.createRequire");
export const availableParallelism = unavailable("os.availableParallelism");
export const createServer = unavailable("http.createServer");
export default {};
