package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// The quickstart runs twice on one directory: the second run finds the first
// run's objects after a restart and applies the manifests as updates.
func TestQuickstartRunsTwiceOnOneDirectory(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, run(context.Background(), dir))
	require.NoError(t, run(context.Background(), dir))
}
