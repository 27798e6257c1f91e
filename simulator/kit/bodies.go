package kit

import (
	"bytes"
	"encoding/json"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/kgsim/kgsim/simulator/protocol"
)

// The bodies of the five kit calls (kit-sync.md §4): their members in the
// order of the spec's tables, which is the order they are sent in by
// default (§2.2). Optional members are omitted when empty; mandatory ones
// are sent even when empty ("" or 0). timeStamp is renewed by delivery on
// every attempt (§8).
type (
	tenantSync struct {
		InstanceID string `json:"instanceId"`
		OrderID    string `json:"orderId"`
		TenantID   string `json:"tenantId"`
		TenantCode string `json:"tenantCode"`
		Name       string `json:"name"`
		DomainName string `json:"domainName"`
		Flag       int    `json:"flag"`
		TestFlag   int    `json:"testFlag"`
		TimeStamp  string `json:"timeStamp"`
	}
	applicationSync struct {
		InstanceID   string `json:"instanceId"`
		TenantID     string `json:"tenantId"`
		AppID        string `json:"appId"`
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"` // Base64(RSA-OAEP(public key, secret))
		Flag         int    `json:"flag"`
		TestFlag     int    `json:"testFlag"`
		TimeStamp    string `json:"timeStamp"`
	}
	authSync struct {
		InstanceID      string    `json:"instanceId"`
		TenantID        string    `json:"tenantId"`
		AppID           string    `json:"appId"`
		UserList        []kitUser `json:"userList"`
		CurrentSyncTime string    `json:"currentSyncTime"`
		Flag            int       `json:"flag"`
		TestFlag        int       `json:"testFlag"`
		TimeStamp       string    `json:"timeStamp"`
	}
	kitUser struct {
		UserName     string `json:"userName"`
		Name         string `json:"name"`
		OrgCode      string `json:"orgCode"`
		Position     string `json:"position,omitempty"`
		EmployeeCode string `json:"employeeCode,omitempty"`
		EmployeeType int    `json:"employeeType,omitempty"`
		Role         string `json:"role"`
		Enable       string `json:"enable"` // "true" or "false": a string
		Mobile       string `json:"mobile,omitempty"`
		Email        string `json:"email,omitempty"`
		WorkPlace    string `json:"workPlace,omitempty"`
		EntryDate    string `json:"entryDate,omitempty"`
	}
	singleOrgSync struct {
		InstanceID string `json:"instanceId"`
		TenantID   string `json:"tenantId"`
		OrgCode    string `json:"orgCode"`
		OrgName    string `json:"orgName"`
		ParentCode string `json:"parentCode"` // "" for a top-level department
		Flag       int    `json:"flag"`
		TestFlag   int    `json:"testFlag"`
		TimeStamp  string `json:"timeStamp"`
	}
	allOrgSync struct {
		InstanceID  string    `json:"instanceId"`
		TenantID    string    `json:"tenantId"`
		OrgInfoList []orgInfo `json:"orgInfoList"`
		TestFlag    int       `json:"testFlag"`
		TimeStamp   string    `json:"timeStamp"`
	}
	orgInfo struct {
		OrgCode    string `json:"orgCode"`
		OrgName    string `json:"orgName"`
		ParentCode string `json:"parentCode,omitempty"` // omitted for a top-level department
	}
)

// Flags of tenantSync, applicationSync, authSync and singleOrgSync.
const (
	flagDelete = 0
	flagAdd    = 1
	flagModify = 2
	flagRevoke = 3 // authSync only: authorisation cancelled
)

// Kit call names: the last segment of their path and the messages'
// Activity.
const (
	callTenant      = string(activity.TenantSync)
	callApplication = string(activity.ApplicationSync)
	callAuth        = string(activity.AuthSync)
	callOrg         = string(activity.SingleOrgSync)
	callAllOrgs     = string(activity.AllOrgSync)
)

// encode writes a body as compact JSON in its members' order, non-ASCII
// and <, >, & raw (kit-sync.md §2.1 rule 4).
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func testFlag(b simulator.Client) int {
	if b.Test {
		return 1
	}
	return 0
}

func (t *txn) tenantSync(app simulator.App, b simulator.Client, tn simulator.Tenant, flag int) error {
	return t.sync(app, b, callTenant, tenantSync{
		InstanceID: b.InstanceID, OrderID: b.OrderID, TenantID: tn.ID, TenantCode: tn.Code, Name: tn.Name,
		DomainName: t.c.DomainName(tn), Flag: flag, TestFlag: testFlag(b), TimeStamp: simulator.KitTime(t.now),
	})
}

// applicationSync sends the binding's client pair, the secret encrypted
// with the app's public key: anew for every call, so that each carries
// the secret as it now is.
func (t *txn) applicationSync(app simulator.App, b simulator.Client, flag int) error {
	if app.KitURL == "" {
		return nil
	}
	pub, err := protocol.ParsePublicKeyPEM([]byte(app.PublicKeyPEM))
	if err != nil {
		return simulator.Errorf(simulator.ECONFLICT, "publicKeyPem", "app %s: %v; upload a valid key before binding it", app.ID, err)
	}
	hash := t.c.OAEPHash
	if hash == "" {
		hash = protocol.OAEPSHA256
	}
	secret, err := protocol.EncryptSecret(t.c.random(), pub, hash, b.ClientSecret)
	if err != nil {
		return err
	}
	return t.sync(app, b, callApplication, applicationSync{
		InstanceID: b.InstanceID, TenantID: b.TenantID, AppID: app.ID, ClientID: b.ClientID, ClientSecret: secret,
		Flag: flag, TestFlag: testFlag(b), TimeStamp: simulator.KitTime(t.now),
	})
}

// authSync sends users of one flag value; enable says whether they may
// log in to the app after the change.
func (t *txn) authSync(app simulator.App, b simulator.Client, users []simulator.User, flag int, enable bool) error {
	if len(users) == 0 {
		return nil
	}
	list := make([]kitUser, len(users))
	for i, u := range users {
		list[i] = kitUser{
			UserName: u.UserName, Name: u.Name, OrgCode: u.OrgCode, Position: u.Position, EmployeeCode: u.EmployeeCode,
			EmployeeType: u.EmployeeType, Role: u.Role, Enable: "false", Mobile: u.Mobile, Email: u.Email,
			WorkPlace: u.WorkPlace, EntryDate: u.EntryDate,
		}
		if enable {
			list[i].Enable = "true"
		}
	}
	now := simulator.KitTime(t.now)
	return t.sync(app, b, callAuth, authSync{
		InstanceID: b.InstanceID, TenantID: b.TenantID, AppID: app.ID, UserList: list, CurrentSyncTime: now,
		Flag: flag, TestFlag: testFlag(b), TimeStamp: now,
	})
}

func (t *txn) singleOrgSync(app simulator.App, b simulator.Client, d simulator.Department, flag int) error {
	return t.sync(app, b, callOrg, singleOrgSync{
		InstanceID: b.InstanceID, TenantID: b.TenantID, OrgCode: d.OrgCode, OrgName: d.Name, ParentCode: d.ParentCode,
		Flag: flag, TestFlag: testFlag(b), TimeStamp: simulator.KitTime(t.now),
	})
}

func (t *txn) allOrgSync(app simulator.App, b simulator.Client, ds []simulator.Department) error {
	list := make([]orgInfo, len(ds))
	for i, d := range ds {
		list[i] = orgInfo{OrgCode: d.OrgCode, OrgName: d.Name, ParentCode: d.ParentCode}
	}
	return t.sync(app, b, callAllOrgs, allOrgSync{
		InstanceID: b.InstanceID, TenantID: b.TenantID, OrgInfoList: list, TestFlag: testFlag(b), TimeStamp: simulator.KitTime(t.now),
	})
}
