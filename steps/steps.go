package steps

import (
	"context"

	"github.com/cucumber/godog"
)

// worldKey is the context key of a scenario's world.
type worldKey struct{}

// Register adds the step vocabulary to a scenario context, for target. Each
// scenario starts with a world of its own, built before its first step and
// closed after its last.
func Register(sc *godog.ScenarioContext, t Target) {
	t = t.withDefaults()
	sc.Before(func(ctx context.Context, s *godog.Scenario) (context.Context, error) {
		w, err := newWorld(ctx, t, s)
		if err != nil {
			return ctx, err
		}
		return context.WithValue(ctx, worldKey{}, w), nil
	})
	sc.After(func(ctx context.Context, _ *godog.Scenario, err error) (context.Context, error) {
		if w, ok := ctx.Value(worldKey{}).(*world); ok {
			w.close()
		}
		return ctx, err
	})
}

type world struct{}

func newWorld(context.Context, Target, *godog.Scenario) (*world, error) { return &world{}, nil }
func (w *world) close()                                                 {}
