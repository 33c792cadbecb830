package reconcile

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
)

func get(t *testing.T, h http.Handler, url string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
	body, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return rec.Code, string(body)
}

func TestHealthHandler(t *testing.T) {
	var broken error
	h := HealthHandler(
		Check{Name: "ping", Check: func(*http.Request) error { return nil }},
		Check{Name: "informer", Check: func(*http.Request) error { return broken }},
	)
	code, body := get(t, h, "/readyz")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok", body)
	code, body = get(t, h, "/readyz?verbose")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "[+]ping ok\n[+]informer ok\ncheck passed\n", body)

	broken = errors.New("not synced")
	code, body = get(t, h, "/readyz")
	assert.Equal(t, http.StatusInternalServerError, code)
	assert.Equal(t, "[-]informer failed: not synced\ncheck failed\n", body)
}

func TestControllerReadyCheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		c := NewController("web", Func(func(context.Context, apis.Key) (Result, error) { return Result{}, nil }), Options{})
		require.NoError(t, c.Watch(gatedSource{Channel(nil), gate}))
		h := HealthHandler(c.ReadyCheck())
		stop := runController(t, c)
		synctest.Wait()
		code, _ := get(t, h, "/readyz")
		assert.Equal(t, http.StatusInternalServerError, code)
		close(gate)
		synctest.Wait()
		code, _ = get(t, h, "/readyz")
		assert.Equal(t, http.StatusOK, code)
		stop()
		code, _ = get(t, h, "/readyz")
		assert.Equal(t, http.StatusInternalServerError, code, "not ready once stopped")
	})
}
