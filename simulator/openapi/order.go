package openapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// The order query's answer (open-api.md §3), its members in the order of
// the captured real answer.
type (
	orderAnswer struct {
		ResultCode string       `json:"resultCode"`
		ResultMsg  string       `json:"resultMsg"`
		OrderInfo  *orderInfo   `json:"orderInfo,omitempty"`
		Kgsim      *explanation `json:"kgsim,omitempty"`
	}
	orderInfo struct {
		OrderID      string      `json:"orderId"`
		OrderType    string      `json:"orderType"`
		CreateTime   string      `json:"createTime"`
		OrderLine    []orderLine `json:"orderLine"`
		BuyerInfo    buyerInfo   `json:"buyerInfo"`
		ExtendParams []nameValue `json:"extendParams"`
	}
	orderLine struct {
		OrderLineID           string        `json:"orderLineId"`
		ChargingMode          string        `json:"chargingMode"`
		PeriodType            string        `json:"periodType,omitempty"`
		PeriodNumber          int           `json:"periodNumber,omitempty"`
		ExpireTime            string        `json:"expireTime,omitempty"`
		ProductInfo           []productInfo `json:"productInfo"`
		ExtendParams          []nameValue   `json:"extendParams"`
		Currency              string        `json:"currency,omitempty"`
		CurrencyAfterDiscount string        `json:"currencyAfterDiscount,omitempty"`
	}
	productInfo struct {
		ProductID   string `json:"productId"`
		SKUCode     string `json:"skuCode"`
		LinearValue int    `json:"linearValue,omitempty"`
		ProductName string `json:"productName"`
	}
	// buyerInfo's members are all nullable: null is shown, not left out.
	buyerInfo struct {
		MobilePhone      *string `json:"mobilePhone"`
		Email            *string `json:"email"`
		CustomerID       *string `json:"customerId"`
		CustomerName     *string `json:"customerName"`
		CustomerRealName *string `json:"customerRealName"`
		CustomerType     *int    `json:"customerType"`
		UserID           *string `json:"userId"`
		UserName         *string `json:"userName"`
	}
	nameValue struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
)

// orderAnswerShape is the order query's refusal.
func orderAnswerShape(code, msg string, e *explanation) any {
	return orderAnswer{ResultCode: code, ResultMsg: msg, Kgsim: e}
}

// Order-query codes (open-api.md §3).
const (
	mktSuccess   = "MKT.0000"
	mktInvalid   = "MKT.0101"
	mktIllegal   = "MKT.0150"
	msgSuccess   = "Success"
	msgInvalid   = "Invalid parameter"
	msgIllegal   = "Illegal operation"
	maxQueryID   = 64
	businessTime = "20060102150405" // yyyyMMddHHmmss, UTC
)

// orderQuery answers GET order/query: a MOCK order for any seller, or an
// order kgsim created for a product of the calling seller.
func (s *Server) orderQuery(w http.ResponseWriter, r *http.Request, c call) {
	refuse := func(status int, code, msg, field, format string, args ...any) {
		e := &explanation{Problem: fmt.Sprintf(format, args...), Field: field, Spec: "open-api.md §3"}
		s.log.InfoContext(r.Context(), "order query refused", "seller", c.seller.ID, "code", code, "problem", e.Problem)
		writeJSON(w, status, orderAnswer{ResultCode: code, ResultMsg: msg, Kgsim: e})
	}
	q := r.URL.Query()
	for _, name := range []string{"orderId", "orderLineId"} {
		switch vs := q[name]; {
		case len(vs) > 1:
			refuse(http.StatusBadRequest, mktInvalid, msgInvalid, name, "%s is given %d times; give it once", name, len(vs))
			return
		case len(vs) == 1 && len(vs[0]) > maxQueryID:
			refuse(http.StatusBadRequest, mktInvalid, msgInvalid, name, "%s has %d characters; at most %d", name, len(vs[0]), maxQueryID)
			return
		}
	}
	orderID, lineID := q.Get("orderId"), q.Get("orderLineId")
	if orderID == "" {
		refuse(http.StatusBadRequest, mktInvalid, msgInvalid, "orderId", "the query parameter orderId is required: ?orderId={orderId}[&orderLineId={orderLineId}]")
		return
	}
	info, err := s.orderInfo(r, c.seller, orderID)
	switch {
	case simulator.ErrorCode(err) == simulator.ENOTFOUND:
		refuse(http.StatusBadRequest, mktIllegal, msgIllegal, "orderId",
			"seller %s has no order %s: an order is answered only to the AK of the seller whose product was bought, and the MOCK orders (%s) to any seller", c.seller.ID, orderID, strings.Join(mockIDs(), ", "))
		return
	case err != nil:
		s.internal(w, r, err, orderAnswerShape)
		return
	}
	if lineID != "" {
		var lines []string
		for _, l := range info.OrderLine {
			if l.OrderLineID == lineID {
				info.OrderLine = []orderLine{l}
				lines = nil
				break
			}
			lines = append(lines, l.OrderLineID)
		}
		if lines != nil {
			refuse(http.StatusBadRequest, mktInvalid, msgInvalid, "orderLineId", "order %s has no line %s; its lines: %s", orderID, lineID, strings.Join(lines, ", "))
			return
		}
	}
	writeJSON(w, http.StatusOK, orderAnswer{ResultCode: mktSuccess, ResultMsg: msgSuccess, OrderInfo: info})
}

// orderInfo is the MOCK order or the seller's order with this ID;
// ENOTFOUND when it is neither.
func (s *Server) orderInfo(r *http.Request, seller simulator.Seller, id string) (*orderInfo, error) {
	now := s.clock.Now()
	if info := mockOrder(id, now); info != nil {
		return info, nil
	}
	ctx := r.Context()
	o, err := s.store.Order(ctx, id)
	if err != nil {
		return nil, err
	}
	p, err := s.store.Product(ctx, o.ProductID)
	if err != nil {
		return nil, err
	}
	if p.SellerID != seller.ID {
		return nil, simulator.Errorf(simulator.ENOTFOUND, "orderId", "another seller's order")
	}
	buyer := buyerInfo{CustomerID: &o.CustomerID}
	switch cu, err := s.store.Customer(ctx, o.CustomerID); {
	case err == nil:
		buyer = buyerOf(cu)
	case simulator.ErrorCode(err) != simulator.ENOTFOUND:
		return nil, err
	}
	return &orderInfo{
		OrderID:      o.ID,
		OrderType:    orderType(o),
		CreateTime:   o.CreatedAt.UTC().Format(businessTime),
		OrderLine:    []orderLine{lineOf(o, p)},
		BuyerInfo:    buyer,
		ExtendParams: []nameValue{},
	}, nil
}

// orderType is the order query's name of an order's kind (open-api.md
// §3): the marketplace's callbacks and its order query name them apart.
func orderType(o simulator.Order) string {
	switch o.Kind {
	case simulator.NewPurchase:
		if o.Trial {
			return "TRIAL"
		}
		return "NEW"
	case simulator.Renewal:
		return "RENEW"
	case simulator.TrialToFormal:
		return "TRIAL_TO_FORMAL"
	case simulator.UnsubscribeRenewal, simulator.Unsubscribe:
		return "UNSUBSCRIBE"
	case simulator.RenewalChange, simulator.Upgrade:
		return "CHANGE"
	}
	return string(o.Kind)
}

// lineOf is an order's one line. A trial is a PERIOD line of days; a line
// without an amount paid has no currency.
func lineOf(o simulator.Order, p simulator.Product) orderLine {
	l := orderLine{
		OrderLineID:  o.LineID,
		ChargingMode: string(p.ChargingMode),
		PeriodType:   o.PeriodType,
		PeriodNumber: o.PeriodNumber,
		ProductInfo: []productInfo{{
			ProductID: o.ProductID, SKUCode: o.SKUCode, LinearValue: o.LinearAmount, ProductName: p.Name,
		}},
		ExtendParams:          []nameValue{},
		Currency:              o.Amount,
		CurrencyAfterDiscount: o.Amount,
	}
	if o.Trial && o.Kind == simulator.NewPurchase {
		l.ChargingMode, l.PeriodType = string(simulator.Period), "day"
		l.PeriodNumber = int(o.ExpireTime.Sub(o.CreatedAt).Round(24*time.Hour) / (24 * time.Hour))
	}
	if !o.ExpireTime.IsZero() {
		l.ExpireTime = o.ExpireTime.UTC().Format(businessTime)
	}
	return l
}

// buyerOf is what the order query tells of a customer: kgsim knows no
// real name or customer type, which are null.
func buyerOf(c simulator.Customer) buyerInfo {
	opt := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	return buyerInfo{
		MobilePhone: opt(c.MobilePhone), Email: opt(c.Email), CustomerID: opt(c.ID), CustomerName: opt(c.Name),
		UserID: opt(c.UserID), UserName: opt(c.UserName),
	}
}
