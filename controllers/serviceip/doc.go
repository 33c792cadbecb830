// Package serviceip allocates Services' cluster IPs (from a service CIDR) and
// node ports (from 30000-32767) as a store admission step, and keeps every
// allocation in the store's own KV, so a restart, or a second API process over
// the same KV, sees them.
//
// Why here, and why reservations in the KV: the store runs admission before
// the transaction that writes the Service, so an allocator cannot put its
// bookkeeping into that transaction. Instead every allocated address or port
// is a reservation key of its own (<KeyPrefix>/gantry.dev/allocations/
// clusterips/<ip> and .../nodeports/<port>) whose value names the owning
// Service. A reservation is taken with a create-only KV transaction (compare
// ModRevision 0), so two concurrent creates can never hold one IP: exactly one
// transaction wins, the other picks another address (automatic) or is refused
// with a field error (requested). Reservations are idempotent per owner: a
// Service that retries its create gets its own reservation back.
//
// Release: on Service delete (admission of DELETE), on an update that drops
// node ports or turns the Service headless or ExternalName. A create that the
// store refuses after admission (validation, AlreadyExists) leaves its
// reservation behind with the would-be owner's name; Repair frees
// reservations whose owner does not exist or no longer uses them (run it at
// start and periodically: it leaves reservations younger than
// Options.RepairGrace alone, as they may belong to a create in flight; a
// retried create by the same name reuses its own). Releasing on DELETE happens
// in admission too, just before the object goes (or is marked for deletion
// when it has finalizers).
//
// # Usage
//
//	alloc, err := serviceip.New(kv, serviceip.Options{CIDR: netip.MustParsePrefix("10.96.0.0/12")})
//	s, err := store.New(kv, scheme, store.Options{Mutating: []store.Admitter{alloc}})
//	_, err = alloc.Repair(ctx, s) // after a crash: free reservations nobody holds
//
// The zero Options allocate from DefaultCIDR and the node-port range
// 30000-32767. Refusals are *store.InvalidError with spec.clusterIP or
// spec.ports[i].nodePort, wrapped in store.ErrDenied by the store.
package serviceip
