// Boolean query parameters as kube-apiserver reads them (apimachinery's
// Convert_Slice_string_To_bool): absent is false, "0" and any casing of
// "false" are false, every other value is true. Clients differ in how they
// spell true (kubectl sends "true", the Python client "True", curl users "1"),
// so every boolean a request's query carries is read through here.

/** The query's boolean parameter `name`, read as kube-apiserver reads it. */
export function queryBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  return !(v === '0' || v.toLowerCase() === 'false');
}
