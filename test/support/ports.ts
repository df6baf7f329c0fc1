/**
 * Loopback addresses and ports for servers started by tests.
 *
 * Concurrent test runs on one machine (other worktrees, CI) must not fight over
 * 127.0.0.1:2379. Give each test its own block of loopback addresses instead:
 * the whole 127.0.0.0/8 is routed to `lo` on Linux, no setup needed.
 */
import * as crypto from 'crypto';
import * as net from 'net';
import { isLoopback } from './wait';

/**
 * A random /24 inside 127.0.0.0/8 (avoiding 127.0.0.x and 127.255.x.x), as a
 * function from host number (1-254) to address: `const ip = loopbackBlock(); ip(1)`.
 */
export function loopbackBlock(): (host: number) => string {
  const b = crypto.randomBytes(2);
  const second = 1 + (b[0] % 254); // 1..254
  const third = b[1];
  return (host: number) => {
    if (!Number.isInteger(host) || host < 1 || host > 254) throw new Error(`host number ${host} not in 1..254`);
    return `127.${second}.${third}.${host}`;
  };
}

/** A TCP port that was free on the loopback `host` a moment ago (bind to port 0, read it, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  if (!isLoopback(host)) return Promise.reject(new Error(`freePort: ${host} is not loopback`));
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
