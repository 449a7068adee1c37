package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Serve serves srv (whose Handler is normally the one New returns) on lis
// until ctx is done, then shuts it down gracefully: lis is closed, idle
// connections are closed, and requests in flight get drain to finish. What
// is still running after drain, such as a watch following a long job or a
// slow upload, is cut off by closing its connection, which cancels its gRPC
// call. Serve returns nil after a shutdown requested through ctx, and the
// error if serving fails before that.
//
// srv's timeouts are the caller's to choose; for this API set
// ReadHeaderTimeout and IdleTimeout but leave ReadTimeout and WriteTimeout
// zero, since uploads and watches legitimately last long.
func Serve(ctx context.Context, srv *http.Server, lis net.Listener, drain time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err := <-errc:
		return fmt.Errorf("gateway: serve %s: %w", lis.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// The drain is over: close whatever is left.
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("gateway: serve %s: %w", lis.Addr(), err)
	}
	return nil
}
