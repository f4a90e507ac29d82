// Prints what interface selection sees on this machine (run inside a lab namespace): every interface's
// eligibility from the real os.networkInterfaces() and /sys/class/net, and the choice for each IP argument.
import { chooseInterfaces, eligibility, readInterfaceFacts } from '../../../../src/l2/interfaces.js';

const facts = readInterfaceFacts();
const out = {
  eligibility: Object.fromEntries(facts.map((f) => [f.name, eligibility(f)])),
  choices: Object.fromEntries(process.argv.slice(2).map((ip) => [ip, chooseInterfaces(ip, facts)])),
};
process.stdout.write(`${JSON.stringify(out)}\n`);
