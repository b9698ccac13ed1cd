// How Docker's sandbox reads a queried name (sandbox.ResolveName): the name
// as is on every network the container is on, then, for each dot from the
// right, the part before it on the network named by the part after it. So
// "web.front" is "web" on network "front" when no container is called
// "web.front". Names are compared lower-cased.

export interface NameCandidate {
  name: string;
  /** undefined: any network the client is on. */
  network?: string;
}

export function nameCandidates(queried: string): NameCandidate[] {
  const name = queried.replace(/\.$/, '').toLowerCase();
  const out: NameCandidate[] = [{ name }];
  for (let i = name.lastIndexOf('.'); i > 0; i = name.lastIndexOf('.', i - 1)) {
    out.push({ name: name.slice(0, i), network: name.slice(i + 1) });
  }
  return out;
}
