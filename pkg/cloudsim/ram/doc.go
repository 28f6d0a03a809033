// Package ram is the emulated RAM service's semantics: which RAM action and resource
// every emulated API call is checked against (Table), and how RAM evaluates the policies
// attached to the caller (Parse, Evaluate). The state it reads (roles, users, policies,
// attachments) lives in the shared core, emu.RAMStore; the emulated products call
// Authorize and answer a denial the way each real service does (Denied).
//
// It is written from Alibaba Cloud's RAM documentation, independently of the product's
// policy generator (package rampolicy): the emulator and the product are two readings
// of the same references, so that a mistake in one shows up against the other.
//
// Policy language (https://www.alibabacloud.com/help/en/ram/policy-structure-and-syntax,
// https://www.alibabacloud.com/help/doc-detail/93738.htm policy elements,
// https://www.alibabacloud.com/help/en/ram/user-guide/policy-evaluation-logic):
//   - Version "1"; Statement: a list of {Effect, Action, Resource} (Sid optional).
//   - Effect Allow or Deny; an explicit Deny wins over any Allow; no Allow is an implicit
//     deny.
//   - Action and Resource: a string or a list of strings; `*` matches any run of
//     characters and `?` one character. Action names compare case-insensitively;
//     resources compare exactly (ARNs name case-sensitive things such as queue names).
//   - The policies attached to the caller are evaluated as their union.
//   - An action the reference lists as "All Resources" is matched only by a statement
//     whose Resource is `*`: a narrower Resource makes the statement ineffective.
//   - NotAction, NotResource, Condition and Principal are not evaluated here: a
//     document that uses them is refused when it is created, naming the statement, so
//     that nothing is silently granted or denied.
//
// Root-account callers are not evaluated (as in RAM); RAM users and assumed roles are.
package ram
