// Prefix → key range, the way etcd spells "all keys starting with P": [P, end)
// where end is P with its last code unit incremented. Both backends compare keys
// bytewise (SQLite BINARY collation, etcd byte order); for the ASCII keys the API
// server uses (/registry/...) that matches JS string order.

/** The exclusive upper bound of keys starting with prefix, or null when there is none (empty prefix). */
export function prefixEnd(prefix: string): string | null {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const code = prefix.charCodeAt(i);
    if (code < 0xffff) return prefix.slice(0, i) + String.fromCharCode(code + 1);
  }
  return null;
}
