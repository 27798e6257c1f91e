package steps

import (
	"regexp"
	"sync"
)

// compiledVocabulary is the vocabulary with its patterns compiled once:
// godog would compile them for every scenario, which costs a sixth of a
// scenario's time.
var compiledVocabulary = sync.OnceValue(func() []step {
	steps := vocabulary()
	for i, s := range steps {
		steps[i].pattern = regexp.MustCompile(s.pattern.(string))
	}
	return steps
})

// vocabulary is every step the features use, in the words of the spec: a
// merchant's product owner reads the feature files, so the steps say what
// happens in the marketplace, not how the check is made.
func vocabulary() []step {
	kinds := `(purchase|renewal|conversion|freeze|unfreeze|upgrade|release|query|License)`
	return []step{
		// Buyers and the marketplace act.
		{`^a buyer has bought (a trial of )?the product$`, on1((*world).boughtProduct)},
		{`^a buyer buys (a trial of )?the product$`, on1((*world).buysProduct)},
		{`^the buyer buys the product again$`, on((*world).buysAgain)},
		{`^the buyer opens the resource details$`, on((*world).opensDetails)},
		{`^the buyer renews for (\d+) periods?$`, on1((*world).renews)},
		{`^the buyer unsubscribes the renewal$`, on((*world).unsubscribesRenewal)},
		{`^the buyer turns the trial formal$`, on((*world).convertsTrial)},
		{`^the buyer upgrades to a quantity of (\d+)$`, on1((*world).upgrades)},
		{`^the buyer unsubscribes$`, on((*world).unsubscribes)},
		{`^the buyer requests a License$`, on((*world).requestsLicense)},
		{`^the marketplace freezes the instance for a violation$`, on((*world).freezes)},
		{`^the marketplace lifts the violation$`, on((*world).liftsViolation)},
		{`^the subscription period ends$`, on((*world).periodEnds)},
		{`^(\d+) (minutes?|hours?|days?) pass(?:es)?$`, on2((*world).timePasses)},
		{`^the merchant's service (answers 503 Service Unavailable|refuses every connection)(?: for the next (\d+) hours?)?$`, on2((*world).merchantDown)},

		// Calls sent again, or that the marketplace would never send.
		{`^the marketplace sends a purchase for a new order$`, on((*world).newOrder)},
		{`^the marketplace sends a purchase for a new order signed with the wrong key$`, on((*world).newOrderForged)},
		{`^the marketplace sends a purchase for a new order signed (\d+) seconds (ago|ahead)$`, on2((*world).newOrderAged)},
		{`^the marketplace sends a purchase for a new order without the "([^"]+)" parameter$`, on1((*world).newOrderWithout)},
		{`^the marketplace sends the ` + kinds + ` again$`, on1((*world).sendsAgain)},
		{`^the marketplace sends the ` + kinds + ` again signed with the wrong key$`, on1((*world).sendsAgainForged)},
		{`^the marketplace sends that call again with a new businessId$`, on((*world).sendsThatAgain)},
		{`^the same request is sent again unchanged$`, on((*world).replays)},
		{`^the marketplace sends a purchase for the same order and another specification$`, on((*world).anotherSpecification)},
		{`^the marketplace sends a (freeze|renewal|release) for an instance the merchant never created$`, on1((*world).aboutUnknownInstance)},

		// What the merchant must have done.
		{`^the ` + kinds + ` call succeeds$`, on1((*world).callSucceeds)},
		{`^the merchant accepts the call$`, on((*world).mustAccept)},
		{`^the merchant refuses the call$`, on((*world).mustRefuse)},
		{`^the merchant refuses the call with resultCode "(\d{6})"(?: or "(\d{6})")?$`, on2((*world).mustRefuseWith)},
		{`^the merchant answers the call with resultCode "(\d{6})" or "(\d{6})"$`, on2((*world).answersCallWith)},
		{`^the merchant answers the purchase with resultCode "(\d{6})" or "(\d{6})" and an instanceId$`, on2((*world).answersPurchaseWith)},
		{`^the ` + kinds + ` call is answered with resultCode "(\d{6})" or "(\d{6})"$`, on3((*world).callAnsweredWith)},
		{`^the answer has a non-empty "([^"]+)" of at most (\d+) characters$`, on2((*world).answerHas)},
		{`^the answer's "([^"]+)" (is the same as|differs from) the (purchase call|License call|previous answer)'s$`, on3((*world).sameAs)},
		{`^the two purchases have different instanceIds$`, on((*world).instanceIDsDiffer)},
		{`^the answer lists the instance with a non-empty "([^"]+)"$`, on1((*world).listsInstanceWith)},
		{`^the answer lists the instance's usage$`, on((*world).listsUsage)},
		{`^where the merchant reports the instance's state, it is (frozen|in use)$`, on1((*world).stateAgrees)},
		{`^the order (is completed|has failed and was unsubscribed)$`, on1((*world).orderState)},
		{`^the purchase was attempted (\d+) times, the last (\d+) hours after the first$`, on2((*world).purchaseAttempts)},
		{`^a failure notice was raised for each of the (\d+) failed attempts$`, on1((*world).noticesPerAttempt)},
		{`^a final failure notice says ([A-Z_]+) after (\d+) attempts$`, on2((*world).finalNotice)},
		{`^once accepted for asynchronous provisioning, the instance's access data comes through queryInstance within 3 hours$`, on((*world).asyncFinished)},

		// How every answer of the scenario is written.
		{`^every answer came within the marketplace's time limit$`, on((*world).withinLimit)},
		{`^every answer came within the recommended time$`, on((*world).withinRecommended)},
		{`^every answer is a JSON object with a string resultCode, declared as application/json$`, on((*world).wellFormed)},
		{`^every answer carries a Body-Sign over the exact bytes of its body$`, on((*world).everyBodySigned)},
		{`^every answer that carries a Body-Sign has it over the exact bytes of its body$`, on((*world).presentBodySigned)},
		{`^every answer carries a Body-Sign$`, on((*world).carryBodySign)},
		{`^every answer carries a resultMsg$`, on((*world).carryResultMsg)},
		{`^no answer carries non-ASCII text outside memo$`, on((*world).asciiOutsideMemo)},
		{`^the marketplace reads the instance's access data$`, on((*world).accessData)},
		{`^the encrypted account in the access data decrypts with the declared encryptType$`, on((*world).decrypts)},
		{`^the production interface is served over https$`, on((*world).overHTTPS)},
		{`^the production interface is reached by a domain name$`, on((*world).byDomainName)},

		// Joint operation: the buyer center's actions and the kit syncs
		// they send (kit-sync.md).
		{`^the merchant's application is registered for joint operation$`, on((*world).registersApp)},
		{`^the enterprise has a user authorised for the application$`, on((*world).hasAuthorisedUser)},
		{`^the enterprise (binds|has bound) the application to its purchase$`, on1((*world).binds)},
		{`^the seller applies for test credentials$`, on((*world).credentialTest)},
		{`^the enterprise authorises a new user for the application$`, on((*world).authorisesNewUser)},
		{`^the enterprise edits the user$`, on((*world).editsUser)},
		{`^the enterprise revokes the user's authorisation$`, on((*world).revokesUser)},
		{`^the enterprise removes the user$`, on((*world).removesUser)},
		{`^the enterprise (adds|renames|deletes) a department$`, on1((*world).department)},
		{`^the enterprise is renamed$`, on((*world).renamesEnterprise)},
		{`^the enterprise rotates the application's client secret$`, on((*world).rotatesSecret)},
		{`^the enterprise unbinds the application$`, on((*world).unbinds)},
		{`^the merchant acknowledges (every sync|the [a-zA-Z, ]+)$`, on1((*world).syncsAcknowledged)},
		{`^the marketplace sends the (tenantSync|applicationSync|authSync|singleOrgSync|allOrgSync) again(?: signed (with the wrong kit key|with the basic interfaces' access key|120 seconds ago))?$`, on2((*world).resendsSync)},
		{`^the marketplace sends the applicationSync again with a clientSecret the merchant's private key cannot decrypt$`, on((*world).undecryptableSecret)},
		{`^the marketplace sends (every sync|the deletes) of the binding again$`, on1((*world).resendsAll)},
		{`^the marketplace sends a tenantSync deleting an enterprise the merchant never heard of$`, on((*world).deletesUnknownTenant)},
		{`^the merchant accepts the sync$`, on((*world).syncAccepted)},
		{`^the merchant accepts each of them$`, on((*world).eachAccepted)},
		{`^the merchant refuses the sync(?: with resultCode "(\d{6})")?$`, on1((*world).syncRefused)},

		// Login through the marketplace (identity.md).
		{`^the user opens the application's login entry and logs in on the marketplace's page$`, on((*world).logsInThroughApp)},
		{`^the user logs in on the marketplace's unified login page for the application$`, on((*world).logsInAtMarketplace)},
		{`^the user opens the application's CAS login entry and logs in on the marketplace's page$`, on((*world).logsInWithCAS)},
		{`^the user has logged in to the application$`, on((*world).hasLoggedIn)},
		{`^the application renews the user's access token$`, on((*world).renewsToken)},
		{`^the user logs out of the application$`, on((*world).logsOut)},
		{`^the application exchanged the code for tokens with its client pair$`, on((*world).codeExchanged)},
		{`^the application read the user's details at userinfo$`, on((*world).userinfoRead)},
		{`^the application shows the user logged in$`, on((*world).showsUser)},
		{`^the application no longer shows the user logged in$`, on((*world).userGone)},
		{`^the application renewed the access token with the refresh token$`, on((*world).refreshUsed)},
		{`^the marketplace ended the user's session$`, on((*world).sessionEnded)},
		{`^the application's login entry shows the marketplace's login page again$`, on((*world).loginFormAgain)},
		{`^the application validated the ticket once$`, on((*world).ticketValidated)},
		{`^another user of the enterprise obtains a login callback with a state of their own$`, on((*world).forgesCallback)},
		{`^the user's browser is sent to that callback$`, on((*world).followsForged)},
		{`^the application does not log the browser in as the other user$`, on((*world).notLoggedInAsOther)},
		{`^the enterprise's token endpoint fails with (\d{3})(?: [A-Za-z ]+)?$`, on1((*world).tokenEndpointFails)},
		{`^the user logs in through the application's login entry while the token endpoint fails$`, on((*world).logsInWhileTokenFails)},
		{`^the application answers the failed login with a page of its own, without a redirect loop$`, on((*world).failedCleanly)},
		{`^the application answers the failed login with an error status$`, on((*world).failedWithErrorStatus)},
		{`^the user logs in again through the application's login entry$`, on((*world).logsInAgain)},
		{`^the application exchanged the code for tokens with the rotated client secret$`, on((*world).rotatedSecretUsed)},
	}
}
