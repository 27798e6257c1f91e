package notice_test

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/notice"
)

// Run's rounds are timed on synctest's clock, which moves only once Run
// waits for its next round: the SMTP server and the store, outside the
// bubble, answer in real time.
func TestRunMailsARoundEachIntervalAndRetriesWhatFailed(t *testing.T) {
	ms := startMailServer(t, "late@merchant.example.com")
	st := openStore(t)
	storedNotice(t, st, "ntc-first", "ops@merchant.example.com")
	storedNotice(t, st, "ntc-refused", "late@merchant.example.com")
	unmailed := func(t *testing.T) []string {
		t.Helper()
		ns, err := st.Notices(context.Background(), simulator.NoticeFilter{Unmailed: true})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, n := range ns {
			ids = append(ids, n.ID)
		}
		slices.Sort(ids)
		return ids
	}
	synctest.Test(t, func(t *testing.T) {
		const interval = time.Minute
		ctx, cancel := context.WithCancel(t.Context())
		m := &notice.Mailer{Addr: ms.addr, Store: st, Interval: interval}
		done := make(chan struct{})
		go func() {
			m.Run(ctx)
			close(done)
		}()

		synctest.Wait()
		if got := unmailed(t); !slices.Equal(got, []string{"ntc-refused"}) || len(ms.messages()) != 1 {
			t.Fatalf("after the first round: unmailed %v, %d e-mails; want ntc-refused left and one e-mail", got, len(ms.messages()))
		}

		storedNotice(t, st, "ntc-later", "ops@merchant.example.com")
		ms.accept("late@merchant.example.com")
		time.Sleep(interval - time.Second)
		synctest.Wait()
		if len(ms.messages()) != 1 {
			t.Fatalf("%d e-mails before the second round, want still 1", len(ms.messages()))
		}

		time.Sleep(time.Second)
		synctest.Wait()
		if got := unmailed(t); len(got) != 0 || len(ms.messages()) != 3 {
			t.Fatalf("after the second round: unmailed %v, %d e-mails; want every notice mailed, 3 e-mails", got, len(ms.messages()))
		}

		cancel()
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("Run went on after its context ended")
		}
	})
}
