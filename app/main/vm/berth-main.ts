// Entry of dist/berth.mjs (bin/berth) while the VM commands are the only ones: `berth vm …`.
// When bin/berth gains its own command table, it calls vmCommand() for the "vm" group.
import { vmCommand } from './cli.js';

const [group, ...rest] = process.argv.slice(2);
if (group === 'vm') {
  process.exit(await vmCommand(rest));
} else {
  process.stderr.write('Usage: berth vm start|stop|restart|status|reset [OPTIONS]\n');
  process.exit(group === undefined || group === '--help' || group === '-h' ? 0 : 2);
}
