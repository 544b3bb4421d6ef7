/**
 * A process's peak resident memory, all threads: Linux's VmHWM. Not `process.resourceUsage().maxRSS`:
 * Linux carries that across fork and exec, so a child spawned by a large process reports the
 * parent's size until it outgrows it.
 */
import fs from 'node:fs';

/** The peak RSS in bytes of this process, or of the live process `pid` (0 once it is gone); getrusage's where /proc is missing. */
export function peakRss(pid: number | 'self' = 'self'): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // gone already, or no /proc
  }
  return pid === 'self' ? process.resourceUsage().maxRSS * 1024 : 0;
}
