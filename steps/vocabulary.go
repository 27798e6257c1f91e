package steps

import (
	"regexp"
	"sync"
)

// compiledVocabulary is the vocabulary with its patterns compiled once:
// godog would compile them for every scenario, which costs a sixth of a
// scenario's time.
var compiledVocabulary = sync.OnceValue(func() []step {
	var steps []step
	for _, s := range vocabulary() {
		for _, st := range s.steps {
			st.pattern = regexp.MustCompile(st.pattern.(string))
			steps = append(steps, st)
		}
	}
	return steps
})

// section is a group of steps about one thing, as kgsim steps lists them.
type section struct {
	title string
	steps []step
}

// Definition is one step of the vocabulary, as kgsim steps prints it and
// a merchant's own scenarios use it.
type Definition struct {
	Section string // what the steps around it are about
	Pattern string // the regular expression a step's text must match
	Example string // a step that matches, with its keyword
}

// Vocabulary returns every step a scenario may use, by section, each
// with an example.
func Vocabulary() []Definition {
	var out []Definition
	for _, s := range vocabulary() {
		for _, st := range s.steps {
			out = append(out, Definition{Section: s.title, Pattern: st.pattern.(string), Example: st.example})
		}
	}
	return out
}

// Matching returns the patterns of the steps a step's text (without its
// keyword) matches: none is an undefined step, two an ambiguous one.
func Matching(text string) []string {
	var out []string
	for _, st := range compiledVocabulary() {
		if re := st.pattern.(*regexp.Regexp); re.MatchString(text) {
			out = append(out, re.String())
		}
	}
	return out
}

// vocabulary is every step the features use, in the words of the spec: a
// merchant's product owner reads the feature files, so the steps say what
// happens in the marketplace, not how the check is made.
func vocabulary() []section {
	kinds := `(purchase|renewal|conversion|freeze|unfreeze|upgrade|change check|release|query|License)`
	return []section{
		{"Buyers and the marketplace act", []step{
			{`^a buyer has bought (a trial of )?the product$`, on1((*world).boughtProduct), "Given a buyer has bought the product"},
			{`^a buyer buys (a trial of )?the product$`, on1((*world).buysProduct), "When a buyer buys the product"},
			{`^the buyer buys the product again$`, on((*world).buysAgain), "When the buyer buys the product again"},
			{`^the buyer opens the resource details$`, on((*world).opensDetails), "When the buyer opens the resource details"},
			{`^the buyer renews for (\d+) periods?$`, on1((*world).renews), "When the buyer renews for 1 period"},
			{`^the buyer unsubscribes the renewal$`, on((*world).unsubscribesRenewal), "When the buyer unsubscribes the renewal"},
			{`^the buyer turns the trial formal$`, on((*world).convertsTrial), "When the buyer turns the trial formal"},
			{`^the buyer upgrades to a quantity of (\d+)$`, on1((*world).upgrades), "When the buyer upgrades to a quantity of 5"},
			{`^the buyer renews for (\d+) periods? changing to a quantity of (\d+)$`, on2((*world).renewsChanging), "When the buyer renews for 1 period changing to a quantity of 5"},
			{`^the buyer unsubscribes$`, on((*world).unsubscribes), "When the buyer unsubscribes"},
			{`^the buyer requests a License$`, on((*world).requestsLicense), "When the buyer requests a License"},
			{`^the marketplace freezes the instance for a violation$`, on((*world).freezes), "When the marketplace freezes the instance for a violation"},
			{`^the marketplace lifts the violation$`, on((*world).liftsViolation), "When the marketplace lifts the violation"},
			{`^the subscription period ends$`, on((*world).periodEnds), "When the subscription period ends"},
			{`^(\d+) (minutes?|hours?|days?) pass(?:es)?$`, on2((*world).timePasses), "When 15 days pass"},
			{`^a buyer buys the product and the merchant's answer to the first attempt comes after the marketplace stopped waiting$`, on((*world).buysAnsweredLate), "When a buyer buys the product and the merchant's answer to the first attempt comes after the marketplace stopped waiting"},
			{`^the merchant's service (answers 503 Service Unavailable|refuses every connection)(?: for the next (\d+) hours?)?$`, on2((*world).merchantDown), "Given the merchant's service answers 503 Service Unavailable for the next 2 hours"},
		}},
		{"Calls sent again, or that the marketplace would never send", []step{
			{`^the marketplace sends a purchase for a new order$`, on((*world).newOrder), "When the marketplace sends a purchase for a new order"},
			{`^the marketplace sends a purchase for a new order signed with the wrong key$`, on((*world).newOrderForged), "When the marketplace sends a purchase for a new order signed with the wrong key"},
			{`^the marketplace sends a purchase for a new order signed (\d+) seconds (ago|ahead)$`, on2((*world).newOrderAged), "When the marketplace sends a purchase for a new order signed 120 seconds ago"},
			{`^the marketplace sends a purchase for a new order without the "([^"]+)" parameter$`, on1((*world).newOrderWithout), `When the marketplace sends a purchase for a new order without the "nonce" parameter`},
			{`^the marketplace sends the ` + kinds + ` again$`, on1((*world).sendsAgain), "When the marketplace sends the purchase again"},
			{`^the marketplace sends the purchase again, delayed (\d+) seconds on its way$`, on1((*world).sendsPurchaseDelayed), "When the marketplace sends the purchase again, delayed 40 seconds on its way"},
			{`^the marketplace sends the ` + kinds + ` again signed with the wrong key$`, on1((*world).sendsAgainForged), "When the marketplace sends the release again signed with the wrong key"},
			{`^the marketplace sends the order notification again$`, on((*world).notifiesAgain), "When the marketplace sends the order notification again"},
			{`^the marketplace sends the order notification again signed with the basic interfaces' access key$`, on((*world).notifiesAgainWithBasicKey), "When the marketplace sends the order notification again signed with the basic interfaces' access key"},
			{`^the marketplace sends that call again with a new businessId$`, on((*world).sendsThatAgain), "When the marketplace sends that call again with a new businessId"},
			{`^the same request is sent again unchanged$`, on((*world).replays), "When the same request is sent again unchanged"},
			{`^the marketplace sends a purchase for the same order and another specification$`, on((*world).anotherSpecification), "When the marketplace sends a purchase for the same order and another specification"},
			{`^the marketplace queries both instances in one call$`, on((*world).queriesBoth), "When the marketplace queries both instances in one call"},
			{`^the marketplace delivers a new purchase twice, the second while the merchant is still processing the first$`, on((*world).overlappingPurchase), "When the marketplace delivers a new purchase twice, the second while the merchant is still processing the first"},
			{`^the marketplace sends a (freeze|renewal|release|change check) for an instance the merchant never created$`, on1((*world).aboutUnknownInstance), "When the marketplace sends a release for an instance the merchant never created"},
		}},
		{"What the merchant must have done", []step{
			{`^the ` + kinds + ` call succeeds$`, on1((*world).callSucceeds), "Then the release call succeeds"},
			{`^the order notification call succeeds and completes the order$`, on((*world).notificationSucceeds), "Then the order notification call succeeds and completes the order"},
			{`^the merchant accepts the call$`, on((*world).mustAccept), "Then the merchant accepts the call"},
			{`^the merchant refuses the call$`, on((*world).mustRefuse), "Then the merchant refuses the call"},
			{`^the merchant refuses the call with resultCode "(\d{6})"(?: or "(\d{6})")?$`, on2((*world).mustRefuseWith), `Then the merchant refuses the call with resultCode "000001"`},
			{`^the merchant answers the call with resultCode "(\d{6})" or "(\d{6})"$`, on2((*world).answersCallWith), `Then the merchant answers the call with resultCode "000000" or "000003"`},
			{`^the merchant answers the purchase with resultCode "(\d{6})" or "(\d{6})" and an instanceId$`, on2((*world).answersPurchaseWith), `Then the merchant answers the purchase with resultCode "000000" or "000004" and an instanceId`},
			{`^the ` + kinds + ` call is answered with resultCode "(\d{6})" or "(\d{6})"$`, on3((*world).callAnsweredWith), `Then the License call is answered with resultCode "000000" or "000004"`},
			{`^the answer has a non-empty "([^"]+)" of at most (\d+) characters$`, on2((*world).answerHas), `Then the answer has a non-empty "instanceId" of at most 64 characters`},
			{`^the answer's "([^"]+)" (is the same as|differs from) the (purchase call|License call|previous answer)'s$`, on3((*world).sameAs), `Then the answer's "instanceId" is the same as the purchase call's`},
			{`^the two purchases have different instanceIds$`, on((*world).instanceIDsDiffer), "Then the two purchases have different instanceIds"},
			{`^the answer lists each of the two instances with a non-empty "([^"]+)"$`, on1((*world).listsEach), `Then the answer lists each of the two instances with a non-empty "appInfo.frontEndUrl"`},
			{`^the retry of the purchase is acknowledged with the instance of the late answer$`, on((*world).lateRetryAcknowledged), "Then the retry of the purchase is acknowledged with the instance of the late answer"},
			{`^the merchant accepts the delayed delivery with the purchase's instance$`, on((*world).delayedAccepted), "Then the merchant accepts the delayed delivery with the purchase's instance"},
			{`^the purchase sent again from the resource details is acknowledged with the same instance$`, on((*world).detailsRepeatAcknowledged), "Then the purchase sent again from the resource details is acknowledged with the same instance"},
			{`^both deliveries are acknowledged with the same instance$`, on((*world).overlapOneInstance), "Then both deliveries are acknowledged with the same instance"},
			{`^the answer lists the instance with a non-empty "([^"]+)"$`, on1((*world).listsInstanceWith), `Then the answer lists the instance with a non-empty "appInfo.frontEndUrl"`},
			{`^the answer lists the instance's usage$`, on((*world).listsUsage), "Then the answer lists the instance's usage"},
			{`^where the merchant reports the instance's state, it is (frozen|in use)$`, on1((*world).stateAgrees), "Then where the merchant reports the instance's state, it is frozen"},
			{`^the order (is completed|has failed and was unsubscribed)$`, on1((*world).orderState), "Then the order is completed"},
			{`^the purchase was attempted (\d+) times, the last (\d+) hours after the first$`, on2((*world).purchaseAttempts), "Then the purchase was attempted 3 times, the last 2 hours after the first"},
			{`^a failure notice was raised for each of the (\d+) failed attempts$`, on1((*world).noticesPerAttempt), "Then a failure notice was raised for each of the 2 failed attempts"},
			{`^a final failure notice says ([A-Z_]+) after (\d+) attempts$`, on2((*world).finalNotice), "Then a final failure notice says ORDER_FAILED_UNSUBSCRIBED after 4 attempts"},
			{`^once accepted for asynchronous provisioning, the instance's access data comes through queryInstance within 3 hours$`, on((*world).asyncFinished), "Then once accepted for asynchronous provisioning, the instance's access data comes through queryInstance within 3 hours"},
		}},
		{"How every answer of the scenario is written", []step{
			{`^every answer came within the marketplace's time limit$`, on((*world).withinLimit), "Then every answer came within the marketplace's time limit"},
			{`^every answer came within the recommended time$`, on((*world).withinRecommended), "Then every answer came within the recommended time"},
			{`^every answer is a JSON object with a string resultCode, declared as application/json$`, on((*world).wellFormed), "Then every answer is a JSON object with a string resultCode, declared as application/json"},
			{`^every answer carries a Body-Sign over the exact bytes of its body$`, on((*world).everyBodySigned), "Then every answer carries a Body-Sign over the exact bytes of its body"},
			{`^every answer that carries a Body-Sign has it over the exact bytes of its body$`, on((*world).presentBodySigned), "Then every answer that carries a Body-Sign has it over the exact bytes of its body"},
			{`^every answer carries a Body-Sign$`, on((*world).carryBodySign), "Then every answer carries a Body-Sign"},
			{`^every answer carries a resultMsg$`, on((*world).carryResultMsg), "Then every answer carries a resultMsg"},
			{`^no answer carries non-ASCII text outside memo$`, on((*world).asciiOutsideMemo), "Then no answer carries non-ASCII text outside memo"},
			{`^the marketplace reads the instance's access data$`, on((*world).accessData), "When the marketplace reads the instance's access data"},
			{`^the encrypted account in the access data decrypts with the declared encryptType$`, on((*world).decrypts), "Then the encrypted account in the access data decrypts with the declared encryptType"},
			{`^the production interface is served over https$`, on((*world).overHTTPS), "Then the production interface is served over https"},
			{`^the production interface is reached by a domain name$`, on((*world).byDomainName), "Then the production interface is reached by a domain name"},
		}},
		{"Joint operation: the buyer center's actions and the kit syncs they send (kit-sync.md)", []step{
			{`^the merchant's application is registered for joint operation$`, on((*world).registersApp), "Given the merchant's application is registered for joint operation"},
			{`^the enterprise has a user authorised for the application$`, on((*world).hasAuthorisedUser), "Given the enterprise has a user authorised for the application"},
			{`^the enterprise (binds|has bound) the application to its purchase$`, on1((*world).binds), "Given the enterprise has bound the application to its purchase"},
			{`^the seller applies for test credentials$`, on((*world).credentialTest), "When the seller applies for test credentials"},
			{`^the enterprise authorises a new user for the application$`, on((*world).authorisesNewUser), "When the enterprise authorises a new user for the application"},
			{`^the enterprise edits the user$`, on((*world).editsUser), "When the enterprise edits the user"},
			{`^the enterprise revokes the user's authorisation$`, on((*world).revokesUser), "When the enterprise revokes the user's authorisation"},
			{`^the enterprise removes the user$`, on((*world).removesUser), "When the enterprise removes the user"},
			{`^the enterprise (adds|renames|deletes) a department$`, on1((*world).department), "When the enterprise adds a department"},
			{`^the enterprise is renamed$`, on((*world).renamesEnterprise), "When the enterprise is renamed"},
			{`^the enterprise rotates the application's client secret$`, on((*world).rotatesSecret), "When the enterprise rotates the application's client secret"},
			{`^the enterprise unbinds the application$`, on((*world).unbinds), "When the enterprise unbinds the application"},
			{`^the merchant acknowledges (every sync|the [a-zA-Z, ]+)$`, on1((*world).syncsAcknowledged), "Then the merchant acknowledges the tenantSync, applicationSync, allOrgSync and authSync"},
			{`^the marketplace sends the (tenantSync|applicationSync|authSync|singleOrgSync|allOrgSync) again(?: signed (with the wrong kit key|with the basic interfaces' access key|120 seconds ago))?$`, on2((*world).resendsSync), "When the marketplace sends the tenantSync again signed with the wrong kit key"},
			{`^the marketplace sends the applicationSync again with a clientSecret the merchant's private key cannot decrypt$`, on((*world).undecryptableSecret), "When the marketplace sends the applicationSync again with a clientSecret the merchant's private key cannot decrypt"},
			{`^the marketplace sends (every sync|the deletes) of the binding again$`, on1((*world).resendsAll), "When the marketplace sends every sync of the binding again"},
			{`^the marketplace sends a tenantSync deleting an enterprise the merchant never heard of$`, on((*world).deletesUnknownTenant), "When the marketplace sends a tenantSync deleting an enterprise the merchant never heard of"},
			{`^the merchant accepts the sync$`, on((*world).syncAccepted), "Then the merchant accepts the sync"},
			{`^the merchant accepts each of them$`, on((*world).eachAccepted), "Then the merchant accepts each of them"},
			{`^the merchant refuses the sync(?: with resultCode "(\d{6})")?$`, on1((*world).syncRefused), "Then the merchant refuses the sync"},
		}},
		{"The merchant's calls to the marketplace's open APIs (open-api.md)", []step{
			{`^the merchant queried the order it was sent$`, onCtx((*world).orderQueried), "Then the merchant queried the order it was sent"},
			{`^the merchant pushes usage for the instance$`, onCtx((*world).pushesUsage), "When the merchant pushes usage for the instance"},
			{`^every usage push for the instance is accepted$`, onCtx((*world).usageAccepted), "Then every usage push for the instance is accepted"},
			{`^the buyer has received a License code for the purchase$`, on((*world).receivesLicense), "Given the buyer has received a License code for the purchase"},
			{`^the buyer enters the code in the merchant's License software$`, on((*world).entersLicense), "When the buyer enters the code in the merchant's License software"},
			{`^the License software activated the code and checked it with the heartbeat$`, onCtx((*world).licenseActivated), "Then the License software activated the code and checked it with the heartbeat"},
		}},
		{"Login through the marketplace (identity.md)", []step{
			{`^the user opens the application's login entry and logs in on the marketplace's page$`, on((*world).logsInThroughApp), "When the user opens the application's login entry and logs in on the marketplace's page"},
			{`^the user logs in on the marketplace's unified login page for the application$`, on((*world).logsInAtMarketplace), "When the user logs in on the marketplace's unified login page for the application"},
			{`^the user opens the application's CAS login entry and logs in on the marketplace's page$`, on((*world).logsInWithCAS), "When the user opens the application's CAS login entry and logs in on the marketplace's page"},
			{`^the user has logged in to the application$`, on((*world).hasLoggedIn), "Given the user has logged in to the application"},
			{`^the application renews the user's access token$`, on((*world).renewsToken), "When the application renews the user's access token"},
			{`^the user logs out of the application$`, on((*world).logsOut), "When the user logs out of the application"},
			{`^the application exchanged the code for tokens with its client pair$`, on((*world).codeExchanged), "Then the application exchanged the code for tokens with its client pair"},
			{`^the application read the user's details at userinfo$`, on((*world).userinfoRead), "Then the application read the user's details at userinfo"},
			{`^the application shows the user logged in$`, on((*world).showsUser), "Then the application shows the user logged in"},
			{`^the application no longer shows the user logged in$`, on((*world).userGone), "Then the application no longer shows the user logged in"},
			{`^the application renewed the access token with the refresh token$`, on((*world).refreshUsed), "Then the application renewed the access token with the refresh token"},
			{`^the marketplace ended the user's session$`, on((*world).sessionEnded), "Then the marketplace ended the user's session"},
			{`^the application's login entry shows the marketplace's login page again$`, on((*world).loginFormAgain), "Then the application's login entry shows the marketplace's login page again"},
			{`^the application validated the ticket once$`, on((*world).ticketValidated), "Then the application validated the ticket once"},
			{`^another user of the enterprise obtains a login callback with a state of their own$`, on((*world).forgesCallback), "When another user of the enterprise obtains a login callback with a state of their own"},
			{`^the user's browser is sent to that callback$`, on((*world).followsForged), "When the user's browser is sent to that callback"},
			{`^the application does not log the browser in as the other user$`, on((*world).notLoggedInAsOther), "Then the application does not log the browser in as the other user"},
			{`^the enterprise's token endpoint fails with (\d{3})(?: [A-Za-z ]+)?$`, on1((*world).tokenEndpointFails), "Given the enterprise's token endpoint fails with 503 Service Unavailable"},
			{`^the user logs in through the application's login entry while the token endpoint fails$`, on((*world).logsInWhileTokenFails), "When the user logs in through the application's login entry while the token endpoint fails"},
			{`^the application answers the failed login with a page of its own, without a redirect loop$`, on((*world).failedCleanly), "Then the application answers the failed login with a page of its own, without a redirect loop"},
			{`^the application answers the failed login with an error status$`, on((*world).failedWithErrorStatus), "Then the application answers the failed login with an error status"},
			{`^the user logs in again through the application's login entry$`, on((*world).logsInAgain), "When the user logs in again through the application's login entry"},
			{`^the application exchanged the code for tokens with the rotated client secret$`, on((*world).rotatedSecretUsed), "Then the application exchanged the code for tokens with the rotated client secret"},
		}},
	}
}
