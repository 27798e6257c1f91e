@login
Feature: Login through the marketplace (OAuth 2.0)
  The enterprise's users log in to the merchant's application with their
  enterprise account. The application sends the browser to the
  enterprise's identity domain (tenantSync's domainName) at
  /api/v1/oauth2/authorize with the clientId applicationSync gave it, its
  registered callback and a state; the user logs in on the marketplace's
  page, and the browser comes back to the callback with code, tenant and
  state. The application exchanges the code at /api/v1/oauth2/token with
  its client pair (the secret decrypted), reads the user at
  /api/v1/oauth2/userinfo and starts its own session. A login started at
  the marketplace's unified login page comes back with code and tenant
  only. The application renews the access token with the refresh token,
  and on logout ends its session and sends the browser to /api/v1/logout
  (identity.md §1-§3). When the token endpoint fails, the application tells
  the user so with a page of its own, rather than crashing, hanging or
  starting the login again in a loop; a client secret the enterprise
  rotates reaches it in applicationSync and is used from then on
  (identity.md §5, kit-sync.md §4.2).

  Background:
    Given the merchant's application is registered for joint operation
    And a buyer has bought the product
    And the enterprise has a user authorised for the application
    And the enterprise has bound the application to its purchase

  @required
  Scenario: A user logs in to the application through the marketplace
    When the user opens the application's login entry and logs in on the marketplace's page
    Then the application exchanged the code for tokens with its client pair
    And the application read the user's details at userinfo
    And the application shows the user logged in

  @required
  Scenario: A login started at the marketplace's unified login page reaches the application
    When the user logs in on the marketplace's unified login page for the application
    Then the application exchanged the code for tokens with its client pair
    And the application read the user's details at userinfo
    And the application shows the user logged in

  @recommended
  Scenario: A callback with a state the application did not issue is refused
    When another user of the enterprise obtains a login callback with a state of their own
    And the user's browser is sent to that callback
    Then the application does not log the browser in as the other user

  @required @refresh
  Scenario: The application renews the access token with the refresh token
    Given the user has logged in to the application
    When the application renews the user's access token
    Then the application renewed the access token with the refresh token
    And the application shows the user logged in

  @required @logout
  Scenario: Logging out of the application ends the marketplace's session too
    Given the user has logged in to the application
    When the user logs out of the application
    Then the marketplace ended the user's session
    And the application no longer shows the user logged in
    And the application's login entry shows the marketplace's login page again

  @required
  Scenario: The application's login fails cleanly when the token endpoint fails
    Given the enterprise's token endpoint fails with 503 Service Unavailable
    When the user logs in through the application's login entry while the token endpoint fails
    Then the application answers the failed login with a page of its own, without a redirect loop

  @recommended
  Scenario: A failed login is answered with an error status
    Given the enterprise's token endpoint fails with 503 Service Unavailable
    When the user logs in through the application's login entry while the token endpoint fails
    Then the application answers the failed login with an error status

  @required
  Scenario: A client secret rotated by applicationSync is used at once
    Given the user has logged in to the application
    When the enterprise rotates the application's client secret
    And the user logs in again through the application's login entry
    Then the application exchanged the code for tokens with the rotated client secret
    And the application shows the user logged in
