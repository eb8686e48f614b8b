// The bench's floor for the VM boot (bench/figures/vm.ts): a bare Node server that answers every
// request with 200 "OK" on berthd's socket. berth-init runs it in berthd's place when the kernel
// command line says berth.engine=/usr/lib/berth/ping-floor.cjs, so the boot, the relay and the host
// socket are the same and the difference is what berthd itself costs before its first /_ping.
const http = process.getBuiltinModule('node:http');
const fs = process.getBuiltinModule('node:fs');

const socket = process.argv[process.argv.indexOf('-H') + 1].replace(/^unix:\/\//, '');
fs.rmSync(socket, { force: true });
http.createServer((req, res) => res.end('OK')).listen(socket);
