// How the etcd client rides out a member that is down, for etcd3's connection
// pool. Its defaults do not fit an API server: they retry any "recoverable"
// error (deadline exceeded, resource exhausted, ...) three times and open a
// member's circuit after any three failures in a row, so a loaded single
// member that is merely slow for a moment refuses every request for 5 s.
//
// Here only a member that cannot be reached counts against it (transport
// UNAVAILABLE, not etcd's own "etcdserver: ..." answers), and a call is retried
// on the next member only for errors that say the request never ran: no
// connection to the member could be made, or it has no leader. A call whose
// connection dropped while it was in flight may have been applied: retrying a
// create then answers AlreadyExists for the caller's own write, so it fails as
// unavailable instead, as kube-apiserver's etcd client does.
import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, noop, retry, type IPolicy } from 'cockatiel';
import etcd3 from 'etcd3';

/** The member could not be reached at all (connection refused, reset, no route). */
export function isUnreachable(err: Error): boolean {
  return err instanceof etcd3.GRPCUnavailableError && !/etcdserver:/.test(err.message);
}

/** The request was refused before it was sent or applied, so running it again (on any member) is safe. */
function notApplied(err: Error): boolean {
  return (isUnreachable(err) && /No connection established/i.test(err.message)) || /etcdserver: no leader/.test(err.message);
}

export function etcdFaultHandling(memberCount: number): { host: () => IPolicy; global: IPolicy } {
  return {
    // A member that could not be reached 3 times in a row is skipped for 2 s while others take its calls.
    // With one member there is nobody to hand its calls to: a dropped connection, which fails every call
    // in flight at once, must not also refuse the next 2 s of calls.
    host: () => (memberCount > 1 ? circuitBreaker(handleWhen(isUnreachable), { halfOpenAfter: 2000, breaker: new ConsecutiveBreaker(3) }) : noop),
    global: retry(handleWhen(notApplied), { maxAttempts: Math.max(2, memberCount), backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1000 }) }),
  };
}
