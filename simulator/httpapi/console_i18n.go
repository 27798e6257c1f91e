package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// lang is a language of the console: the seller center's Chinese, or
// English.
type lang int

const (
	zh lang = iota
	en
)

func (l lang) tag() string {
	if l == en {
		return "en"
	}
	return "zh-CN"
}

const langCookie = "kgsim_lang"

// language is the page's language: ?lang= (the switch on every page, kept
// in a cookie), else the cookie, else the browser's Accept-Language, else
// Chinese.
func (c *console) language(w http.ResponseWriter, r *http.Request) lang {
	if l, ok := parseLang(r.URL.Query().Get("lang")); ok {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: r.URL.Query().Get("lang"), Path: consolePath,
			MaxAge: 365 * 24 * 60 * 60, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
		return l
	}
	if ck, err := r.Cookie(langCookie); err == nil {
		if l, ok := parseLang(ck.Value); ok {
			return l
		}
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

func parseLang(s string) (lang, bool) {
	switch s {
	case "zh":
		return zh, true
	case "en":
		return en, true
	}
	return zh, false
}

// acceptLanguage picks Chinese or English from an Accept-Language header
// (RFC 9110 §12.5.4): the one of higher weight; Chinese when neither is
// named, or both weigh the same.
func acceptLanguage(h string) lang {
	best, bestQ := zh, -1.0
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		var l lang
		switch primary {
		case "zh":
			l = zh
		case "en":
			l = en
		default:
			continue
		}
		if q > bestQ || q == bestQ && l == zh {
			best, bestQ = l, q
		}
	}
	if bestQ <= 0 {
		return zh
	}
	return best
}

// dictionary holds each text of the console in Chinese and English.
type dictionary map[string][2]string

// locale is a dictionary in one language, as templates use it.
type locale struct {
	lang  lang
	words dictionary
}

// T is the text of key; a key the dictionary lacks shows as itself (the
// console's tests find every key used in a template in the dictionary).
func (l *locale) T(key string) string {
	if w, ok := l.words[key]; ok {
		return w[l.lang]
	}
	return key
}

// Enum is the name of a value of kind (outcome, verdict, state ...): its
// text when the dictionary has one, else the value as it is.
func (l *locale) Enum(kind string, value any) string {
	v := fmt.Sprint(value)
	if w, ok := l.words[kind+"."+v]; ok {
		return w[l.lang]
	}
	return v
}

// Lang is the page's language tag.
func (l *locale) Lang() string { return l.lang.tag() }

// IsEn reports whether the page is in English.
func (l *locale) IsEn() bool { return l.lang == en }

func words() dictionary {
	return dictionary{
		"brand":                             {"KooGallery 云商店", "KooGallery"},
		"console":                           {"卖家中心", "Seller console"},
		"footer":                            {"kgsim：KooGallery 云商店的本地模拟器，并非华为云官方页面。", "kgsim: a local simulator of the KooGallery marketplace, not a Huawei Cloud page."},
		"nav.overview":                      {"概览", "Overview"},
		"nav.messages":                      {"生产接口消息", "Production interface messages"},
		"nav.notices":                       {"邮件通知", "Mailbox"},
		"nav.products":                      {"商品", "Products"},
		"nav.debugger":                      {"接口调试", "Debugger"},
		"nav.orders":                        {"订单", "Orders"},
		"nav.instances":                     {"实例", "Instances"},
		"nav.clock":                         {"时钟", "Clock"},
		"nav.tenants":                       {"租户与应用", "Tenants and apps"},
		"tenants.title":                     {"租户与应用", "Tenants and apps"},
		"tenants.lead":                      {"购买了联营商品的企业、您的应用凭证，以及每个企业的用户和部门：登录与联营同步所依据的数据。修改请用管理 API。", "The enterprises that bought, your application credentials, and each enterprise's users and departments: what logins and kit syncs work from. The admin API changes them."},
		"tenants.tenants":                   {"租户", "Tenants"},
		"tenants.apps":                      {"应用凭证", "Applications"},
		"tenants.domain":                    {"身份域", "Identity domain"},
		"tenants.redirect":                  {"回调地址", "Redirect URIs"},
		"tenants.kitUrl":                    {"联营同步地址", "Kit URL"},
		"tenants.kitKey":                    {"联营同步密钥", "Kit key"},
		"tenants.bindings":                  {"已绑定的应用", "Bound applications"},
		"tenants.rotated":                   {"密钥轮换", "Secret rotated"},
		"tenants.syncs":                     {"同步消息", "Its syncs"},
		"tenants.users":                     {"用户", "Users"},
		"tenants.departments":               {"部门", "Departments"},
		"nav.buy":                           {"购买", "Buy"},
		"logout":                            {"退出", "Log out"},
		"lang.switch":                       {"English", "中文"},
		"clock.virtual":                     {"虚拟时钟", "Virtual clock"},
		"clock.real":                        {"真实时钟", "Real clock"},
		"refresh":                           {"刷新", "Refresh"},
		"filter":                            {"查询", "Search"},
		"reset":                             {"重置", "Reset"},
		"all":                               {"全部", "All"},
		"none":                              {"无", "None"},
		"yes":                               {"是", "Yes"},
		"no":                                {"否", "No"},
		"details":                           {"详情", "Details"},
		"actions":                           {"操作", "Actions"},
		"page.next":                         {"下一页", "Next page"},
		"page.first":                        {"第一页", "First page"},
		"page.empty":                        {"没有符合条件的记录。", "Nothing matches."},
		"time.zone":                         {"时间为北京时间（UTC+8）", "Times are Beijing time (UTC+8)"},
		"login.title":                       {"登录卖家中心", "Log in to the seller console"},
		"login.token":                       {"管理令牌", "Admin token"},
		"login.hint":                        {"kgsim serve 以 --admin-token 或 KGSIM_ADMIN_TOKEN 启动时设定的令牌。", "The token kgsim serve was started with (--admin-token or KGSIM_ADMIN_TOKEN)."},
		"login.submit":                      {"登录", "Log in"},
		"login.wrong":                       {"令牌不正确。", "That is not the admin token."},
		"login.expired":                     {"会话已过期，请重新登录后再提交。", "Your session has ended: log in again, then send the form again."},
		"csrf.refused":                      {"表单已失效（缺少或错误的 CSRF 令牌）：请刷新页面后重试。", "The form is stale (its CSRF token is missing or wrong): reload the page and try again."},
		"refused.title":                     {"请求被拒绝", "Request refused"},
		"refused.back":                      {"返回卖家中心", "Back to the console"},
		"overview.title":                    {"概览", "Overview"},
		"overview.pending":                  {"待投递消息", "Messages pending"},
		"overview.failing":                  {"需要处理的消息", "Messages needing you"},
		"overview.products":                 {"商品状态", "Products"},
		"overview.notices":                  {"最新邮件通知", "Latest notices"},
		"overview.onsale":                   {"在售商品", "Products on sale"},
		"overview.allquiet":                 {"没有停止或失败的消息。", "No stopped or failed message."},
		"overview.seeall":                   {"查看全部", "See all"},
		"messages.title":                    {"生产接口消息", "Production interface messages"},
		"messages.lead":                     {"云商店调用您生产接口的每一条消息，以及每次调用的请求、应答和判定。", "Every call the marketplace made to your production interface, with each attempt's request, answer and verdict."},
		"message.title":                     {"消息详情", "Message"},
		"col.message":                       {"消息ID", "Message ID"},
		"col.activity":                      {"接口", "Activity"},
		"col.kind":                          {"类型", "Kind"},
		"col.product":                       {"商品", "Product"},
		"col.order":                         {"订单号", "Order"},
		"col.orderLine":                     {"订单行", "Order line"},
		"col.instance":                      {"实例ID", "Instance ID"},
		"col.instanceKey":                   {"实例", "Instance"},
		"col.customer":                      {"客户", "Customer"},
		"col.outcome":                       {"状态", "Status"},
		"col.attempts":                      {"调用次数", "Attempts"},
		"col.error":                         {"异常信息", "Error"},
		"col.created":                       {"创建时间", "Created"},
		"col.next":                          {"下次重试", "Next attempt"},
		"col.first":                         {"首次调用", "First attempt"},
		"col.url":                           {"生产接口地址", "Production URL"},
		"col.protocol":                      {"协议", "Protocol"},
		"col.state":                         {"状态", "State"},
		"col.name":                          {"名称", "Name"},
		"col.sku":                           {"规格", "SKU"},
		"col.mode":                          {"计费模式", "Charging"},
		"col.key":                           {"密钥", "Access key"},
		"col.interface":                     {"接口类型", "Interface type"},
		"interface.generic":                 {"通用接口（orderNotify）", "Generic order notification (orderNotify)"},
		"col.notifykey":                     {"通用接口密钥", "Generic interface key"},
		"col.dial":                          {"拨测", "Dial tests"},
		"col.status":                        {"商品状态", "Status"},
		"col.amount":                        {"金额", "Amount"},
		"col.period":                        {"周期", "Period"},
		"col.expire":                        {"到期时间", "Expires"},
		"col.settled":                       {"结束时间", "Settled"},
		"col.updated":                       {"更新时间", "Updated"},
		"col.subject":                       {"主题", "Subject"},
		"col.to":                            {"收件人", "To"},
		"col.mailed":                        {"已发送", "Mailed"},
		"col.time":                          {"时间", "Time"},
		"col.passed":                        {"结果", "Result"},
		"col.trial":                         {"试用", "Trial"},
		"col.nextEvent":                     {"下次事件", "Next event"},
		"f.product":                         {"商品", "Product"},
		"f.protocol":                        {"协议", "Protocol"},
		"f.activity":                        {"接口", "Activity"},
		"f.outcome":                         {"状态", "Status"},
		"f.order":                           {"订单号", "Order ID"},
		"f.instance":                        {"实例ID", "Instance ID"},
		"f.since":                           {"开始时间", "From"},
		"f.until":                           {"结束时间", "To"},
		"f.customer":                        {"客户", "Customer"},
		"f.state":                           {"状态", "State"},
		"f.timeHint":                        {"北京时间，如 2025-03-01 08:00", "Beijing time, such as 2025-03-01 08:00"},
		"restart":                           {"重新启动", "Restart"},
		"restart.lead":                      {"重新启动会立即再调用一次您的生产接口。", "Restart calls your production interface once more, now."},
		"restart.not":                       {"不能重新启动", "Cannot be restarted"},
		"attempt":                           {"第 %d 次调用", "Attempt %d"},
		"attempt.none":                      {"尚未调用。", "Not attempted yet."},
		"attempt.request":                   {"请求（按发送原样）", "Request, exactly as sent"},
		"attempt.response":                  {"应答", "Answer"},
		"attempt.noanswer":                  {"没有收到应答。", "No answer came."},
		"attempt.transport":                 {"传输错误", "Transport error"},
		"attempt.signing":                   {"签名输入（密钥以 <accessKey> 表示）", "Signing inputs (the key shown as <accessKey>)"},
		"attempt.verdict":                   {"判定", "Verdict"},
		"attempt.debugger":                  {"调试信息", "Debugger's message"},
		"attempt.detail":                    {"判定说明", "Why"},
		"attempt.warnings":                  {"提示", "Warnings"},
		"attempt.took":                      {"耗时", "Took"},
		"attempt.truncated":                 {"应答体过长，只保留了开头部分。", "The answer's body was longer: only its start is kept."},
		"attempt.headers":                   {"头域", "Headers"},
		"attempt.body":                      {"消息体", "Body"},
		"message.params":                    {"业务参数", "Parameters"},
		"message.notices":                   {"相关邮件通知", "Notices about it"},
		"message.replay":                    {"用 kgsim replay 重现", "Reproduce with kgsim replay"},
		"notices.title":                     {"邮件通知", "Mailbox"},
		"notices.lead":                      {"云商店发给您的失败通知邮件：每封都带有调用记录，可用 kgsim replay 重现。", "The failure notices the marketplace e-mails you: each carries its call record, which kgsim replay reproduces."},
		"notice.title":                      {"邮件", "Notice"},
		"notice.from":                       {"发件人", "From"},
		"notice.date":                       {"日期", "Date"},
		"notice.attachment":                 {"附件", "Attachment"},
		"notice.record":                     {"调用记录", "Call record"},
		"notice.message":                    {"查看消息", "Open the message"},
		"notice.replay":                     {"重现此调用", "Reproduce this call"},
		"notice.replayHint":                 {"下载附件后运行；加 --merchant-url 可发往本地构建的服务：", "Download the attachment, then run this; add --merchant-url URL to send it to a local build of your service:"},
		"notice.notmailed":                  {"未发送（kgsim serve 未设置 --smtp）", "Not mailed (kgsim serve has no --smtp)"},
		"notice.copy":                       {"复制", "Copy"},
		"products.title":                    {"商品", "Products"},
		"products.lead":                     {"商品、其生产接口和上架状态。", "The products, their production interfaces and whether they are on sale."},
		"product.title":                     {"商品详情", "Product"},
		"product.statusForm":                {"修改上架状态", "Change its status"},
		"product.reason":                    {"原因（写入通知）", "Reason (in the notice)"},
		"product.set":                       {"设置", "Set"},
		"product.dialRun":                   {"立即拨测", "Run the dial test now"},
		"product.dialRuns":                  {"拨测记录", "Dial-test runs"},
		"product.dialNone":                  {"还没有拨测记录。", "No dial-test run yet."},
		"product.cases":                     {"已保存的调试用例", "Saved debug cases"},
		"product.buy":                       {"购买此商品", "Buy this product"},
		"dial.passed":                       {"通过", "Passed"},
		"dial.failed":                       {"失败", "Failed"},
		"dial.running":                      {"进行中", "Running"},
		"buy.title":                         {"下单购买", "Place a purchase"},
		"buy.lead":                          {"以买家身份下单，云商店随即调用生产接口 newInstance。", "Buy as a customer: the marketplace then calls newInstance on the production interface."},
		"buy.submit":                        {"提交订单", "Place the order"},
		"buy.trial":                         {"试用", "Trial"},
		"buy.periodNumber":                  {"周期数", "Periods"},
		"buy.amount":                        {"金额（元）", "Amount (CNY)"},
		"buy.skuCode":                       {"规格编码", "SKU code"},
		"buy.linearAmount":                  {"线性数量", "Quantity"},
		"buy.diskSize":                      {"磁盘（GB）", "Disk (GB)"},
		"buy.bandwidth":                     {"带宽（Mbps）", "Bandwidth (Mbps)"},
		"orders.title":                      {"订单", "Orders"},
		"order.title":                       {"订单详情", "Order"},
		"order.messages":                    {"订单的消息", "Its messages"},
		"instances.title":                   {"实例", "Instances"},
		"instance.title":                    {"实例详情", "Instance"},
		"instance.orders":                   {"实例的订单", "Its orders"},
		"instance.messages":                 {"实例的消息", "Its messages"},
		"instance.actions":                  {"买家与运营操作", "Buyer and operator actions"},
		"act.renew":                         {"续费", "Renew"},
		"act.convert-trial":                 {"试用转正", "Convert the trial"},
		"act.unsubscribe-renewal":           {"退订续费", "Take back the renewal"},
		"act.change-spec":                   {"变更规格", "Change the spec"},
		"act.upgrade":                       {"升级", "Upgrade"},
		"act.unsubscribe":                   {"退订", "Unsubscribe"},
		"act.freeze":                        {"冻结", "Freeze"},
		"act.unfreeze":                      {"解冻", "Unfreeze"},
		"act.query":                         {"查询实例", "Query the instance"},
		"act.license":                       {"获取 License", "Get a License"},
		"act.deviceFingerprint":             {"设备指纹", "Device fingerprint"},
		"act.productId":                     {"目标商品（可选）", "Other product (optional)"},
		"clock.title":                       {"时钟", "Clock"},
		"clock.now":                         {"当前时间", "Now"},
		"clock.lead.virtual":                {"虚拟时钟不会自己走动：向前拨动它，期间到期的重试、到期、释放和拨测会按时间顺序执行。", "A virtual clock stands still until moved: advancing it runs the retries, expiries, releases and dial tests that fall due on the way, in time order."},
		"clock.lead.real":                   {"真实时钟随时间流逝；只有以 --clock virtual 启动的 kgsim serve 才能拨动时钟。", "A real clock moves with time; only kgsim serve --clock virtual can be advanced."},
		"clock.by":                          {"拨快", "Advance by"},
		"clock.byHint":                      {"如 90m、2h、30d", "such as 90m, 2h, 30d"},
		"clock.to":                          {"或拨到", "or to"},
		"clock.advance":                     {"拨动时钟", "Advance"},
		"clock.fell":                        {"本次到期执行的内容", "What fell due"},
		"clock.from":                        {"从", "From"},
		"clock.instants":                    {"到期时刻数", "Instants with work"},
		"clock.work":                        {"执行的工作（状态变化、拨测、调用）", "Work done (transitions, runs, attempts)"},
		"clock.messages":                    {"期间产生的消息", "Messages created"},
		"clock.settled":                     {"期间结束的订单", "Orders settled"},
		"clock.notices":                     {"期间的邮件通知", "Notices raised"},
		"done.bought":                       {"订单已提交，newInstance 调用已排队。", "Order placed: its newInstance call is queued."},
		"done.restarted":                    {"已重新启动：新的一次调用见下方。", "Restarted: the new attempt is below."},
		"done.status":                       {"商品状态已修改。", "The product's status is set."},
		"done.dial":                         {"拨测已开始，用例到期即调用。", "Dial test started: its cases are called as they fall due."},
		"done.action":                       {"操作已提交。", "Done."},
		"done.advanced":                     {"时钟已拨动。", "The clock has moved."},
		"done.debugSent":                    {"已调测：调用结果见下方。", "Sent: the call and its verdict are below."},
		"done.debugSaved":                   {"调测通过，已保存为调试用例。", "The call passed and is saved as a debug case."},
		"done.debugNotSaved":                {"调测未通过，未保存用例：只保存通过的调用。", "The call failed and is not saved: only a call that passes is saved."},
		"done.caseDeleted":                  {"调试用例已删除。", "The debug case is deleted."},
		"debugger.title":                    {"接口调试", "Debugger"},
		"debugger.lead":                     {"选择商品和接口，按需修改参数，向商品配置的生产接口地址发送一次 testFlag=1 的调用，查看判定；通过的调用可保存为调试用例，拨测每天回放。", "Pick a product and an activity, edit the parameters, and send one call with testFlag=1 to the production interface the product is configured with; see the verdict. A call that passes can be saved as a debug case, which the dial tests replay every day."},
		"debugger.fill":                     {"填充参数", "Fill in"},
		"debugger.noProduct":                {"还没有商品：先通过管理 API 添加商品。", "No product yet: add one through the admin API first."},
		"debugger.to":                       {"发往（商品配置的地址）", "Sent to (the product's URL)"},
		"debugger.params":                   {"业务参数（JSON 对象）", "Parameters (a JSON object)"},
		"debugger.paramsHint":               {"activity 与 testFlag 由调试设置；签名与 businessId 在发送时生成。", "The debugger sets activity and testFlag; the signature and businessId are made as it sends."},
		"debugger.send":                     {"调测", "Send"},
		"debugger.save":                     {"调测并保存用例", "Send and save as a case"},
		"debugger.license":                  {"在线开通License商品需保存 %d 个调试用例，最后两个依次为 releaseInstance 和 getLicenseAsync；已保存 %d 个。", "An Online License product keeps %d debug cases, the last two releaseInstance and getLicenseAsync; %d saved."},
		"debugger.licenseNext":              {"下一个须为 %s。", "The next must be %s."},
		"debugger.delete":                   {"删除", "Delete"},
		"debugger.noCases":                  {"还没有调试用例。", "No debug case yet."},
		"debugger.casesHint":                {"商品在售且开启拨测时，每天 10:00 和 15:00 回放这些用例。", "While the product is on sale with dial tests on, these cases are replayed at 10:00 and 15:00 every day."},
		"debugger.result":                   {"调用结果", "The call"},
		"debugger.passed":                   {"调测成功。", "The call passed."},
		"outcome.PENDING":                   {"重试中", "Pending"},
		"outcome.SUCCEEDED":                 {"成功", "Succeeded"},
		"outcome.SUCCEEDED_AFTER_RESTART":   {"重新启动后成功", "Succeeded after restart"},
		"outcome.ORDER_FAILED_UNSUBSCRIBED": {"订单失败已退订", "Order failed, unsubscribed"},
		"outcome.STOPPED_AWAITING_MANUAL_RESTART": {"已停止，待重新启动", "Stopped, awaiting restart"},
		"outcome.POLLING":                         {"轮询中", "Polling"},
		"outcome.REFUSED":                         {"已拒绝", "Refused"},
		"outcome.HELD":                            {"等待前序消息", "Held"},
		"state.PROCESSING":                        {"处理中", "Processing"},
		"state.COMPLETED":                         {"已完成", "Completed"},
		"state.FAILED_UNSUBSCRIBED":               {"失败已退订", "Failed, unsubscribed"},
		"state.REFUSED":                           {"已拒绝", "Refused"},
		"state.STALLED":                           {"停滞", "Stalled"},
		"state.PROVISIONING":                      {"开通中", "Provisioning"},
		"state.ACTIVE":                            {"正常", "Active"},
		"state.FROZEN":                            {"已冻结", "Frozen"},
		"state.RELEASED":                          {"已释放", "Released"},
		"state.NEVER_PROVISIONED":                 {"未开通", "Never provisioned"},
		"status.ON_SALE":                          {"在售", "On sale"},
		"status.FROZEN_HIDDEN":                    {"拨测失败已冻结", "Frozen by dial tests"},
		"status.DELISTED":                         {"已下架", "Delisted"},
		"kind.NEW":                                {"新购", "Purchase"},
		"kind.RENEWAL":                            {"续费", "Renewal"},
		"kind.TRIAL_TO_FORMAL":                    {"试用转正", "Trial to formal"},
		"kind.UNSUBSCRIBE_RENEWAL_PERIOD":         {"退订续费", "Renewal taken back"},
		"kind.RENEWAL_CHANGE":                     {"续费变更", "Renewal with change"},
		"kind.UPGRADE":                            {"升级", "Upgrade"},
		"kind.UNSUBSCRIBE":                        {"退订", "Unsubscription"},
		"notice.ATTEMPT_FAILED":                   {"调用失败", "Call failed"},
		"notice.FINAL":                            {"停止调用", "Retries over"},
		"notice.DIAL_TEST":                        {"拨测失败", "Dial test failed"},
		"notice.PRODUCT_STATUS":                   {"商品状态", "Product status"},
	}
}
