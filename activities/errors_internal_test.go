package activities

import (
	"errors"
	"fmt"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
)

// A name several Konnect resources share is no transient fault: no retry picks one.
func TestAPIError_AnAmbiguousNameIsAConflictNotRetried(t *testing.T) {
	err := apiError("find DCR provider twice", fmt.Errorf("2 DCR providers named \"twice\": %w", konnect.ErrAmbiguous))
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != dcrflow.ErrTypeConflict || !app.NonRetryable() {
		t.Fatalf("err = %v", err)
	}
}
