@cas
Feature: Login through the marketplace (CAS 3.0)
  An application may log the enterprise's users in with CAS instead. It
  sends the browser to the enterprise's identity domain at
  /api/v1/cas/login with the service it registered; once the user has
  logged in on the marketplace's page, the browser comes back to the
  service with a ticket. The application validates the ticket once, at
  /api/v1/cas/p3/serviceValidate with the same service, and the answer
  names the user, whom the application lets in if authSync authorised them
  (identity.md §4).

  Background:
    Given the merchant's application is registered for joint operation
    And a buyer has bought the product
    And the enterprise has a user authorised for the application
    And the enterprise has bound the application to its purchase

  @required
  Scenario: A user logs in to the application with a CAS ticket
    When the user opens the application's CAS login entry and logs in on the marketplace's page
    Then the application validated the ticket once
    And the application shows the user logged in
