package engine

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

// member is one expected parameter: its name and its JSON value, or any
// value when the value is "*".
type member struct{ name, value string }

func str(s string) string { return `"` + s + `"` }

// checkParams compares a message's parameters with the spec's table:
// the same members, in the same order, with the same values. No lifecycle
// call carries testFlag (callbacks.md §2.6), which the exact member list
// checks too.
func checkParams(t *testing.T, m simulator.Message, activity string, want []member) {
	t.Helper()
	if m.Activity != activity {
		t.Errorf("activity %q, want %q", m.Activity, activity)
	}
	var got []member
	gjson.ParseBytes(m.Params).ForEach(func(k, v gjson.Result) bool {
		got = append(got, member{k.Str, v.Raw})
		return true
	})
	names := func(ms []member) string {
		var s []string
		for _, m := range ms {
			s = append(s, m.name)
		}
		return strings.Join(s, ",")
	}
	if names(got) != names(want) {
		t.Fatalf("members\n got %s\nwant %s\nparams %s", names(got), names(want), m.Params)
	}
	for i, w := range want {
		if w.value != "*" && got[i].value != w.value {
			t.Errorf("%s = %s, want %s", w.name, got[i].value, w.value)
		}
	}
}

func TestOrderIDsLookLikeTheDocs(t *testing.T) {
	w := newWorld(t)
	// CS, yyMMddHHmm in Beijing time (10:03 on 15 January 2025), 5 of [0-9A-Z]:
	// the form of CS2211181819B4LVS.
	pattern := regexp.MustCompile(`^CS2501151003[0-9A-Z]{5}$`)
	seen := map[string]bool{}
	for range 20 {
		o, inst := w.buy(Purchase{ProductID: "v2-once"})
		if !pattern.MatchString(o.ID) || seen[o.ID] {
			t.Fatalf("order ID %q: want a fresh ID matching %s", o.ID, pattern)
		}
		seen[o.ID] = true
		if o.LineID != o.ID+"-000001" || inst.Key != o.LineID || o.InstanceKey != inst.Key {
			t.Fatalf("order %s: line %s, instance key %s / %s; want the order ID + -000001 for all three", o.ID, o.LineID, inst.Key, o.InstanceKey)
		}
	}
}

func TestOrderIDsFollowTheClockWithinTheMinute(t *testing.T) {
	w := newWorld(t)
	// The two characters after the minute are the step of 60 s / 1,296
	// (46.3 ms) the purchase falls in: 10:03:04.000 is step 86 (2E),
	// 47 ms later step 87 (2F), 14.047 s step 303 (8F), 59.047 s step
	// 1,275 (ZF).
	var ids []string
	for _, c := range []struct {
		at   time.Duration
		want string
	}{{0, "CS25011510032E"}, {47 * time.Millisecond, "CS25011510032F"}, {10 * time.Second, "CS25011510038F"}, {45 * time.Second, "CS2501151003ZF"}} {
		w.clock.Advance(c.at)
		o, _ := w.buy(Purchase{ProductID: "v2-once"})
		if !strings.HasPrefix(o.ID, c.want) || len(o.ID) != len(c.want)+3 {
			t.Fatalf("order ID %q at %s: want %s and 3 more characters", o.ID, w.clock.Now().Format(time.StampMilli), c.want)
		}
		ids = append(ids, o.ID)
	}
	if !slices.IsSorted(ids) {
		t.Errorf("order IDs made one after another in a minute: %v, not in order", ids)
	}
}

func TestOrderIDInTimeOrderTakenDrawsARandomOne(t *testing.T) {
	w := newWorld(t)
	// Every random byte zero: each draw is CS2501151003 and 00000, the
	// first with its step (2E) instead of its first two.
	w.e.Random = bytes.NewReader(make([]byte, 1<<16))
	first, _ := w.buy(Purchase{ProductID: "v2-once"})
	w.clock.Advance(time.Millisecond) // the same step
	second, _ := w.buy(Purchase{ProductID: "v2-once"})
	if first.ID != "CS25011510032E000" || second.ID != "CS250115100300000" {
		t.Errorf("orders %s and %s: want CS25011510032E000, then, that taken, CS250115100300000", first.ID, second.ID)
	}
}

func TestV1Params(t *testing.T) {
	w := newWorld(t)
	// A 3-month purchase at t0 by a buyer with every field.
	o, inst := w.buy(Purchase{ProductID: "v1-month", CustomerID: "hwc-full", PeriodNumber: 3, Amount: "12.78", LinearAmount: 5, DiskSize: 100, Bandwidth: 20})
	t.Run("newInstance", func(t *testing.T) {
		checkParams(t, w.last(inst.Key), "newInstance", []member{
			{"activity", str("newInstance")}, {"customerId", str("hwc-full")}, {"customerName", str("Acme Ltd")},
			{"userId", str("iam-7")}, {"userName", str("ops")}, {"mobilePhone", "*"}, {"email", "*"},
			{"businessId", "*"}, {"orderId", str(o.ID)}, {"productId", str("v1-month")}, {"skuCode", str("v1-month-basic")},
			{"trialFlag", str("0")}, {"chargingMode", str("PERIOD")}, {"periodType", str("month")}, {"periodNumber", "3"},
			{"orderAmount", "12.78"}, {"expireTime", str("20250415020304")}, {"amount", "5"}, {"diskSize", "100"}, {"bandWidth", "20"},
		})
	})
	t.Run("newInstance trial", func(t *testing.T) {
		o, inst := w.buy(Purchase{ProductID: "v1-month", Trial: true})
		checkParams(t, w.last(inst.Key), "newInstance", []member{
			{"activity", str("newInstance")}, {"customerId", str("hwc-plain")}, {"customerName", str("Plain Co")},
			{"businessId", "*"}, {"orderId", str(o.ID)}, {"productId", str("v1-month")}, {"skuCode", str("v1-month-basic")},
			{"trialFlag", str("1")}, {"chargingMode", str("PERIOD")}, {"expireTime", str("20250122020304")}, // 7 days
		})
	})
	t.Run("newInstance on demand", func(t *testing.T) {
		o, inst := w.buy(Purchase{ProductID: "v1-demand"})
		checkParams(t, w.last(inst.Key), "newInstance", []member{
			{"activity", str("newInstance")}, {"customerId", str("hwc-plain")}, {"customerName", str("Plain Co")},
			{"businessId", "*"}, {"orderId", str(o.ID)}, {"productId", str("v1-demand")}, {"skuCode", str("v1-demand-basic")},
			{"trialFlag", str("0")}, {"chargingMode", str("ON_DEMAND")},
		})
	})
	t.Run("getLicense", func(t *testing.T) {
		o, inst := w.buy(Purchase{ProductID: "v1-license", Amount: "0"})
		checkParams(t, w.last(inst.Key), "getLicense", []member{
			{"activity", str("getLicense")}, {"customerId", str("hwc-plain")}, {"customerName", str("Plain Co")},
			{"businessId", "*"}, {"orderId", str(o.ID)}, {"productId", str("v1-license")}, {"skuCode", str("v1-license-basic")},
			{"trialFlag", str("0")}, {"chargingMode", str("PERIOD")}, {"periodType", str("month")}, {"periodNumber", "1"},
			{"orderAmount", "0"}, {"expireTime", str("20250215020304")},
		})
	})

	w.answer(w.last(inst.Key), simulator.Succeeded, `{"resultCode":"000000","instanceId":"ins-v1"}`)
	var renewal simulator.Order
	t.Run("refreshInstance", func(t *testing.T) {
		renewal = w.ok(w.e.Renew(w.ctx, inst.Key, Renewal{PeriodNumber: 2, Amount: "20"}))
		checkParams(t, w.last(inst.Key), "refreshInstance", []member{
			{"activity", str("refreshInstance")}, {"orderId", str(renewal.ID)}, {"instanceId", str("ins-v1")},
			{"expireTime", str("20250615020304")}, {"periodType", str("month")}, {"periodNumber", "2"}, {"orderAmount", "20"},
		})
	})
	t.Run("refreshInstance unsubscribed renewal period", func(t *testing.T) {
		o := w.ok(w.e.UnsubscribeRenewal(w.ctx, inst.Key))
		checkParams(t, w.last(inst.Key), "refreshInstance", []member{
			{"activity", str("refreshInstance")}, {"orderId", str(o.ID)}, {"instanceId", str("ins-v1")},
			{"expireTime", str("20250415020304")}, {"periodType", str("month")}, {"periodNumber", "2"}, {"orderAmount", "-20"},
		})
	})
	t.Run("refreshInstance period type change", func(t *testing.T) {
		o := w.ok(w.e.Renew(w.ctx, inst.Key, Renewal{ProductID: "v1-year"}))
		checkParams(t, w.last(inst.Key), "refreshInstance", []member{
			{"activity", str("refreshInstance")}, {"orderId", str(o.ID)}, {"instanceId", str("ins-v1")}, {"productId", str("v1-year")},
			{"expireTime", str("20260415020304")}, {"periodType", str("year")}, {"periodNumber", "1"},
		})
	})
	t.Run("upgrade", func(t *testing.T) {
		o := w.ok(w.e.Upgrade(w.ctx, inst.Key, Change{SKUCode: "v1-year-pro", LinearAmount: 10}))
		checkParams(t, w.last(inst.Key), "upgrade", []member{
			{"activity", str("upgrade")}, {"instanceId", str("ins-v1")}, {"orderId", str(o.ID)},
			{"skuCode", str("v1-year-pro")}, {"productId", str("v1-year")}, {"amount", "10"},
		})
	})
	t.Run("instanceStatus", func(t *testing.T) {
		w.must(w.e.Freeze(w.ctx, inst.Key))
		checkParams(t, w.last(inst.Key), "instanceStatus", []member{
			{"activity", str("instanceStatus")}, {"instanceId", str("ins-v1")}, {"instanceStatus", str("FREEZE")},
		})
		w.must(w.e.Unfreeze(w.ctx, inst.Key))
		checkParams(t, w.last(inst.Key), "instanceStatus", []member{
			{"activity", str("instanceStatus")}, {"instanceId", str("ins-v1")}, {"instanceStatus", str("NORMAL")},
		})
	})
	t.Run("queryInstance", func(t *testing.T) {
		m, err := w.e.Query(w.ctx, inst.Key)
		if err != nil {
			t.Fatal(err)
		}
		checkParams(t, m, "queryInstance", []member{{"activity", str("queryInstance")}, {"instanceId", str("ins-v1")}})
	})
	t.Run("expireInstance and releaseInstance", func(t *testing.T) {
		expiry := w.instance(inst.Key).ExpireAt // 2026-04-15 after the period type change
		w.runDue(expiry)
		checkParams(t, w.last(inst.Key), "expireInstance", []member{
			{"activity", str("expireInstance")}, {"instanceId", str("ins-v1")}, {"orderId", str(o.ID)}, // the purchase order (§5.3)
		})
		w.runDue(expiry.Add(15 * 24 * time.Hour))
		checkParams(t, w.last(inst.Key), "releaseInstance", []member{
			{"activity", str("releaseInstance")}, {"instanceId", str("ins-v1")}, {"orderId", str(o.ID)},
		})
	})
	t.Run("releaseInstance unsubscribed", func(t *testing.T) {
		w.clock.Set(t0)
		other := w.active(Purchase{ProductID: "v1-month"}, "ins-v1-b")
		w.ok(w.e.Unsubscribe(w.ctx, other.Key))
		checkParams(t, w.last(other.Key), "releaseInstance", []member{
			{"activity", str("releaseInstance")}, {"instanceId", str("ins-v1-b")}, {"orderId", str(other.OrderID)}, // V1: the purchase order (§5.4)
		})
	})
	t.Run("refreshInstance trial to formal", func(t *testing.T) {
		w.clock.Set(t0)
		trial := w.active(Purchase{ProductID: "v1-month", Trial: true}, "ins-v1-trial")
		o := w.ok(w.e.ConvertTrial(w.ctx, trial.Key, Renewal{Amount: "9.9"}))
		checkParams(t, w.last(trial.Key), "refreshInstance", []member{
			{"activity", str("refreshInstance")}, {"orderId", str(o.ID)}, {"instanceId", str("ins-v1-trial")},
			{"expireTime", str("20250215020304")}, {"trialToFormal", str("1")}, {"periodType", str("month")}, {"periodNumber", "1"},
			{"orderAmount", "9.9"},
		})
	})
}

// The sensitive fields decrypt with the product's key and variant to the
// buyer's plaintext, each with its own fresh iv of [A-Za-z0-9]
// (callbacks.md §3.5, §6).
func TestV1SensitiveFieldsDecrypt(t *testing.T) {
	w := newWorld(t)
	iv := regexp.MustCompile(`^[A-Za-z0-9]{16}`)
	for _, c := range []struct {
		product, key string
		variant      protocol.EncryptType
	}{
		{"v1-month", "v1-month-key", protocol.AES256},
		{"v1-aes128", "v1-aes128-key", protocol.AES128},
	} {
		_, inst := w.buy(Purchase{ProductID: c.product, CustomerID: "hwc-full"})
		params := w.last(inst.Key).Params
		cipher := protocol.NewFieldCipher(c.key, c.variant)
		phone, email := gjson.GetBytes(params, "mobilePhone").String(), gjson.GetBytes(params, "email").String()
		for field, want := range map[string]string{phone: "13800000000", email: "ops@acme.example"} {
			got, err := cipher.Decrypt(field)
			if err != nil || got != want {
				t.Errorf("%s: %q decrypts to %q, %v; want %q", c.product, field, got, err, want)
			}
			if !iv.MatchString(field) {
				t.Errorf("%s: %q does not start with a 16-character [A-Za-z0-9] iv", c.product, field)
			}
		}
		if phone[:16] == email[:16] {
			t.Errorf("%s: phone and e-mail share the iv %s", c.product, phone[:16])
		}
	}
}

func TestV2Params(t *testing.T) {
	w := newWorld(t)
	o, inst := w.buy(Purchase{ProductID: "v2-year", CustomerID: "hwc-full", Amount: "100"})
	t.Run("newInstance", func(t *testing.T) {
		// The thin body of the current table (callbacks.md §5.8, §15 Q1).
		checkParams(t, w.last(inst.Key), "newInstance", []member{
			{"activity", str("newInstance")}, {"orderId", str(o.ID)}, {"orderLineId", str(o.ID + "-000001")}, {"businessId", "*"},
		})
	})
	w.answer(w.last(inst.Key), simulator.Succeeded, `{"resultCode":"000000","instanceId":"ins-v2"}`)
	t.Run("refreshInstance RENEWAL", func(t *testing.T) {
		r := w.ok(w.e.Renew(w.ctx, inst.Key, Renewal{PeriodNumber: 2}))
		checkParams(t, w.last(inst.Key), "refreshInstance", []member{
			{"activity", str("refreshInstance")}, {"scene", str("RENEWAL")}, {"orderId", str(r.ID)}, {"orderLineId", str(r.ID + "-000001")},
			{"instanceId", str("ins-v2")}, {"expireTime", str("20280115020304")},
		})
	})
	t.Run("refreshInstance UNSUBSCRIBE_RENEWAL_PERIOD", func(t *testing.T) {
		r := w.ok(w.e.UnsubscribeRenewal(w.ctx, inst.Key))
		checkParams(t, w.last(inst.Key), "refreshInstance", []member{
			{"activity", str("refreshInstance")}, {"scene", str("UNSUBSCRIBE_RENEWAL_PERIOD")}, {"orderId", str(r.ID)}, {"orderLineId", str(r.ID + "-000001")},
			{"instanceId", str("ins-v2")}, {"expireTime", str("20260115020304")},
		})
	})
	t.Run("changeInstanceCheck then refreshInstance RENEWAL_CHANGE", func(t *testing.T) {
		r := w.ok(w.e.ChangeSpec(w.ctx, inst.Key, Change{ProductID: "v2-month", SKUCode: "v2-month-pro", LinearAmount: 8, PeriodNumber: 3}))
		check := w.last(inst.Key)
		checkParams(t, check, "changeInstanceCheck", []member{
			{"activity", str("changeInstanceCheck")}, {"instanceId", str("ins-v2")},
			{"productInfo", `{"skuCode":"v2-month-pro","productId":"v2-month","linearValue":8}`},
		})
		w.answer(check, simulator.Succeeded, `{"resultCode":"000000"}`)
		checkParams(t, w.last(inst.Key), "refreshInstance", []member{
			{"activity", str("refreshInstance")}, {"scene", str("RENEWAL_CHANGE")}, {"orderId", str(r.ID)}, {"orderLineId", str(r.ID + "-000001")},
			{"instanceId", str("ins-v2")}, {"productId", str("v2-month")}, {"expireTime", str("20260415020304")},
		})
	})
	t.Run("upgradeInstance", func(t *testing.T) {
		u := w.ok(w.e.Upgrade(w.ctx, inst.Key, Change{SKUCode: "v2-month-max"}))
		checkParams(t, w.last(inst.Key), "upgradeInstance", []member{
			{"activity", str("upgradeInstance")}, {"instanceId", str("ins-v2")}, {"orderId", str(u.ID)}, {"orderLineId", str(u.ID + "-000001")},
		})
	})
	t.Run("updateInstanceStatus", func(t *testing.T) {
		w.must(w.e.Freeze(w.ctx, inst.Key))
		checkParams(t, w.last(inst.Key), "updateInstanceStatus", []member{
			{"activity", str("updateInstanceStatus")}, {"instanceId", str("ins-v2")}, {"status", str("FREEZE")},
		})
		w.must(w.e.Unfreeze(w.ctx, inst.Key))
		checkParams(t, w.last(inst.Key), "updateInstanceStatus", []member{
			{"activity", str("updateInstanceStatus")}, {"instanceId", str("ins-v2")}, {"status", str("UNFREEZE")},
		})
	})
	t.Run("queryInstance", func(t *testing.T) {
		m, err := w.e.Query(w.ctx, inst.Key)
		if err != nil {
			t.Fatal(err)
		}
		checkParams(t, m, "queryInstance", []member{{"activity", str("queryInstance")}, {"instanceId", str("ins-v2")}})
	})
	t.Run("releaseInstance after retention", func(t *testing.T) {
		expiry := w.instance(inst.Key).ExpireAt
		w.runDue(expiry)
		checkParams(t, w.last(inst.Key), "updateInstanceStatus", []member{
			{"activity", str("updateInstanceStatus")}, {"instanceId", str("ins-v2")}, {"status", str("FREEZE")},
		})
		w.runDue(expiry.Add(15 * 24 * time.Hour))
		checkParams(t, w.last(inst.Key), "releaseInstance", []member{{"activity", str("releaseInstance")}, {"instanceId", str("ins-v2")}})
	})
	t.Run("releaseInstance unsubscribed", func(t *testing.T) {
		w.clock.Set(t0)
		other := w.active(Purchase{ProductID: "v2-once"}, "ins-v2-b")
		u := w.ok(w.e.Unsubscribe(w.ctx, other.Key))
		checkParams(t, w.last(other.Key), "releaseInstance", []member{
			{"activity", str("releaseInstance")}, {"instanceId", str("ins-v2-b")}, {"orderId", str(u.ID)}, {"orderLineId", str(u.ID + "-000001")},
		})
	})
	t.Run("refreshInstance TRIAL_TO_FORMAL", func(t *testing.T) {
		w.clock.Set(t0)
		trial := w.active(Purchase{ProductID: "v2-year", Trial: true}, "ins-v2-trial")
		if want := t0.AddDate(0, 0, 14); !trial.ExpireAt.Equal(want) { // the product's 14 trial days
			t.Errorf("trial expires %s, want %s", trial.ExpireAt, want)
		}
		w.clock.Set(t0.Add(48 * time.Hour))
		r := w.ok(w.e.ConvertTrial(w.ctx, trial.Key, Renewal{}))
		checkParams(t, w.last(trial.Key), "refreshInstance", []member{
			{"activity", str("refreshInstance")}, {"scene", str("TRIAL_TO_FORMAL")}, {"orderId", str(r.ID)}, {"orderLineId", str(r.ID + "-000001")},
			{"instanceId", str("ins-v2-trial")}, {"expireTime", str("20260117020304")}, // a year from the conversion
		})
	})
	t.Run("getLicenseAsync", func(t *testing.T) {
		w.clock.Set(t0)
		lic := w.active(Purchase{ProductID: "v2-license"}, "ins-v2-lic")
		m, err := w.e.RequestLicense(w.ctx, lic.Key, LicenseRequest{DeviceFingerprint: "AA:BB:CC"})
		if err != nil {
			t.Fatal(err)
		}
		checkParams(t, m, "getLicenseAsync", []member{
			{"activity", str("getLicenseAsync")}, {"instanceId", str("ins-v2-lic")},
			{"effectiveTime", str("2025-01-15 02:03:04 UTC")}, {"expireTime", str("2026-01-15 02:03:04 UTC")},
			{"eventId", "*"}, {"deviceFingerprint", str("AA:BB:CC")},
		})
		again, err := w.e.RequestLicense(w.ctx, lic.Key, LicenseRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if a, b := gjson.GetBytes(m.Params, "eventId").Str, gjson.GetBytes(again.Params, "eventId").Str; a == "" || len(a) > 64 || a == b {
			t.Errorf("eventIds %q and %q: want a fresh one of at most 64 characters per request", a, b)
		}
		if gjson.GetBytes(again.Params, "deviceFingerprint").Exists() {
			t.Errorf("no fingerprint given, but one sent: %s", again.Params)
		}
	})
}

// Every callback is a pending lifecycle message of the instance's queue,
// due now, addressed as the product is configured.
func TestMessagesAreAddressedAndDue(t *testing.T) {
	w := newWorld(t)
	w.clock.Set(t0.Add(90 * time.Minute))
	o, inst := w.buy(Purchase{ProductID: "v2-year", CustomerID: "hwc-full"})
	m := w.last(inst.Key)
	want := simulator.Message{
		ID: m.ID, Kind: "LIFECYCLE", Protocol: simulator.V2, Activity: "newInstance", Queue: o.LineID, ProductID: "v2-year",
		OrderID: o.ID, OrderLineID: o.LineID, CustomerID: "hwc-full", URL: "http://merchant.test/v2", Params: m.Params,
		Outcome: simulator.Pending, NextAttemptAt: w.clock.Now(), CreatedAt: w.clock.Now(),
	}
	if !strings.HasPrefix(m.ID, "m") || m.Kind != want.Kind || m.Protocol != want.Protocol || m.Queue != want.Queue || m.ProductID != want.ProductID ||
		m.OrderID != want.OrderID || m.OrderLineID != want.OrderLineID || m.CustomerID != want.CustomerID || m.URL != want.URL ||
		m.Outcome != want.Outcome || !m.NextAttemptAt.Equal(want.NextAttemptAt) || !m.CreatedAt.Equal(want.CreatedAt) || m.InstanceID != "" {
		t.Errorf("message\n got %+v\nwant %+v", m, want)
	}
	if w.wakes != 1 {
		t.Errorf("Notify called %d times, want once", w.wakes)
	}
}
