// Cold-start probe: a fresh worker that says when it is up, imports the module named by its
// `name` (a URL), and says when that module is evaluated.
const worker = self as unknown as Worker & { name: string };
worker.postMessage("started");
await import(worker.name);
worker.postMessage("evaluated");
