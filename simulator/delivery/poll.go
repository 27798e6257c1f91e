package delivery

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/tidwall/gjson"
)

// poll returns the message that polls queryInstance after the V2 purchase
// m was answered 000004 at now (callbacks.md §2.4, §10.1). It joins m's
// queue, so the instance's later callbacks wait until it is ready. Its
// FirstAttempt is the answer, which the polling schedule counts from.
func (d *Deliverer) poll(m simulator.Message, a simulator.Attempt, now time.Time) (simulator.Message, error) {
	instanceID := gjson.GetBytes(a.ResponseBody, "instanceId").String()
	params := struct {
		Activity   activity.Name `json:"activity"`
		InstanceID string        `json:"instanceId"`
		// A test order's polls are test traffic too (callbacks.md §2.6).
		TestFlag string `json:"testFlag,omitempty"`
	}{activity.QueryInstance, instanceID, gjson.GetBytes(m.Params, "testFlag").String()}
	body, err := json.Marshal(params)
	if err != nil {
		return simulator.Message{}, err
	}
	id, err := simulator.NewID("m", now, d.random())
	if err != nil {
		return simulator.Message{}, fmt.Errorf("message %s: its poll: %w", m.ID, err)
	}
	return simulator.Message{
		ID: id, Kind: simulator.KindPoll, Protocol: m.Protocol, Activity: string(activity.QueryInstance), Queue: m.Queue,
		ProductID: m.ProductID, OrderID: m.OrderID, OrderLineID: m.OrderLineID, InstanceID: instanceID, CustomerID: m.CustomerID,
		URL: m.URL, Params: body, Outcome: simulator.Pending,
		FirstAttempt: now, NextAttemptAt: now.Add(PollOffsets()[0]), CreatedAt: now,
	}, nil
}
