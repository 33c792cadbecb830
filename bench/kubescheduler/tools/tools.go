//go:build tools

// Package tools pins, in this module's go.mod and go.sum, the packages that
// run-scheduler-perf.sh builds from the module cache: Kubernetes'
// scheduler_perf harness (its misc test package runs SchedulingBasic) and
// the etcd server (built as the `etcd` binary the integration framework
// starts). The build tag keeps it out of every build.
package tools

import (
	_ "go.etcd.io/etcd/server/v3/etcdmain"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/kubernetes/test/integration/scheduler_perf"
)
