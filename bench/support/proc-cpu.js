/* CPU time of processes from /proc (Linux): user + system seconds. */
const fs = require('node:fs');

const TICKS_PER_SECOND = 100;

/** Fields after the command name, which may itself contain spaces and parentheses. */
function statFields(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
}

/** The process and its direct children (the app's local cache nodes). */
function withChildren(pid) {
  const children = fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return statFields(entry)[1] === String(pid);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
  return [pid, ...children];
}

function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    const fields = statFields(pid);
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
  }
  return ticks / TICKS_PER_SECOND;
}

module.exports = { cpuSeconds, withChildren };
