// Who a request is from, once authenticated: what authn.ts and the
// ServiceAccount tokens produce and RBAC and the reviews read.
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
}
