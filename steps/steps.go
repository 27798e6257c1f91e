package steps

import (
	"context"
	"errors"
	"slices"

	"github.com/cucumber/godog"
	"github.com/kgsim/kgsim/simulator"
)

// worldKey is the context key of a scenario's world.
type worldKey struct{}

// Register adds the step vocabulary to a scenario context, for target. Each
// scenario runs in a world of its own, built before its first step and
// closed after its last. A scenario for another protocol, or for a charging
// mode or kind the target does not declare, is skipped: a merchant is never
// failed for a product it does not sell (callbacks.md §13).
func Register(sc *godog.ScenarioContext, t Target) {
	t = t.withDefaults()
	sc.Before(func(ctx context.Context, s *godog.Scenario) (context.Context, error) {
		if !t.Applies(tagNames(s)) {
			return ctx, godog.ErrSkip
		}
		w, err := newWorld(ctx, t, s)
		if err != nil {
			return ctx, err
		}
		return context.WithValue(ctx, worldKey{}, w), nil
	})
	sc.After(func(ctx context.Context, _ *godog.Scenario, _ error) (context.Context, error) {
		if w, ok := ctx.Value(worldKey{}).(*world); ok {
			w.close()
		}
		return ctx, nil
	})
	for _, s := range compiledVocabulary() {
		sc.Step(s.pattern, s.run)
	}
}

// Applies reports whether a scenario with these tags certifies something
// the target declares: its protocol (@v1, @v2; untagged is both), and, when
// tagged with charging modes, at least one of them; @trial needs a PERIOD
// product with a trial, @license a License product, @upgrade a product
// that offers upgrades; the joint-operation tags need what Joint says;
// @open-api needs the run's open APIs, @license-software the License
// software's entry, @order-notify the generic order notification's key.
func (t Target) Applies(tags []string) bool {
	t = t.withDefaults()
	if slices.Contains(tags, "@v1") && t.Protocol != simulator.V1 || slices.Contains(tags, "@v2") && t.Protocol != simulator.V2 {
		return false
	}
	if slices.Contains(tags, "@license") && !t.License || slices.Contains(tags, "@upgrade") && !t.Upgrade {
		return false
	}
	if slices.Contains(tags, "@open-api") && t.OpenAPI == nil || slices.Contains(tags, "@license-software") && t.LicenseURL == "" {
		return false
	}
	if slices.Contains(tags, "@order-notify") && !t.NotifiesOrders() {
		return false
	}
	for _, tag := range tags {
		if declared, joint := t.Joint(tag); joint && !declared {
			return false
		}
	}
	moded := false
	for _, tag := range tags {
		m, ok := modeOf(tag)
		if !ok {
			continue
		}
		moded = true
		if slices.Contains(t.Modes, m) && (tag != "@trial" || t.Trial) {
			return true
		}
	}
	return !moded
}

// step is one entry of the vocabulary: a pattern (a string, compiled once
// to a *regexp.Regexp) and the function that runs it, which takes the
// world from the context.
type step struct {
	pattern any
	run     any
	example string // the step as a feature writes it, with its keyword
}

// errNoWorld is what a step says when Register's hook did not run.
var errNoWorld = errors.New("no scenario world: register the steps with steps.Register")

func worldOf(ctx context.Context) (*world, error) {
	w, ok := ctx.Value(worldKey{}).(*world)
	if !ok {
		return nil, errNoWorld
	}
	return w, nil
}

// on adapts a world method to a step function.
func on(f func(w *world, ctx context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		w, err := worldOf(ctx)
		if err != nil {
			return err
		}
		return f(w, ctx)
	}
}

// onCtx adapts a world method that adds to the context (an attachment to
// the report) to a step function.
func onCtx(f func(w *world, ctx context.Context) (context.Context, error)) func(context.Context) (context.Context, error) {
	return func(ctx context.Context) (context.Context, error) {
		w, err := worldOf(ctx)
		if err != nil {
			return ctx, err
		}
		return f(w, ctx)
	}
}

func on1[A any](f func(w *world, ctx context.Context, a A) error) func(context.Context, A) error {
	return func(ctx context.Context, a A) error {
		w, err := worldOf(ctx)
		if err != nil {
			return err
		}
		return f(w, ctx, a)
	}
}

func on2[A, B any](f func(w *world, ctx context.Context, a A, b B) error) func(context.Context, A, B) error {
	return func(ctx context.Context, a A, b B) error {
		w, err := worldOf(ctx)
		if err != nil {
			return err
		}
		return f(w, ctx, a, b)
	}
}

func on3[A, B, C any](f func(w *world, ctx context.Context, a A, b B, c C) error) func(context.Context, A, B, C) error {
	return func(ctx context.Context, a A, b B, c C) error {
		w, err := worldOf(ctx)
		if err != nil {
			return err
		}
		return f(w, ctx, a, b, c)
	}
}
