// ctop's scan worker thread (started by tui/scan.ts): not a command
const { runScanWorker } = await import('../../tui/scan-worker.js');
runScanWorker();
