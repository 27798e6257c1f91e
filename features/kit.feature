@kit
Feature: Joint-operation kit syncs
  A buyer who bought the product binds the merchant's application to its
  enterprise in the buyer center (联营服务 > 企业管理), and the enterprise's
  administrator authorises users, edits departments, renames the
  enterprise. Each change reaches the merchant as a kit sync: a POST to
  {production address}/produceAPI/v2/{tenantSync|applicationSync|authSync|
  singleOrgSync|allOrgSync}, signed in x-sign under the kit key (the key
  bound to 联营SaaS同步接口, not the basic interfaces' access key). The
  merchant checks x-sign and x-timestamp, decrypts applicationSync's
  clientSecret with its private key, keeps what each sync says and answers
  {"resultCode":"000000"}; any other answer stops the binding's syncs until
  the buyer retries. A sync sent again, and a delete of something the
  merchant does not have, are answered 000000 too (kit-sync.md §1-§8).

  Background:
    Given the merchant's application is registered for joint operation
    And a buyer has bought the product

  @required
  Scenario: Binding the application to an enterprise is acknowledged
    Given the enterprise has a user authorised for the application
    When the enterprise binds the application to its purchase
    Then the merchant acknowledges the tenantSync, applicationSync, allOrgSync and authSync

  @required
  Scenario: The seller's credential test is acknowledged
    When the seller applies for test credentials
    Then the merchant acknowledges the tenantSync, applicationSync and allOrgSync

  @required
  Scenario: Authorising, editing and revoking users is acknowledged
    Given the enterprise has bound the application to its purchase
    When the enterprise authorises a new user for the application
    And the enterprise edits the user
    And the enterprise revokes the user's authorisation
    Then the merchant acknowledges every sync

  @required
  Scenario: Department changes are acknowledged
    Given the enterprise has bound the application to its purchase
    When the enterprise adds a department
    And the enterprise renames a department
    And the enterprise deletes a department
    Then the merchant acknowledges every sync

  @required
  Scenario: Renaming the enterprise, rotating the client secret and unbinding are acknowledged
    Given the enterprise has a user authorised for the application
    And the enterprise has bound the application to its purchase
    When the enterprise is renamed
    And the enterprise rotates the application's client secret
    And the enterprise removes the user
    And the enterprise unbinds the application
    Then the merchant acknowledges every sync

  @required
  Scenario: A sync signed with the wrong kit key is refused
    Given the enterprise has bound the application to its purchase
    When the marketplace sends the tenantSync again signed with the wrong kit key
    Then the merchant refuses the sync

  @recommended
  Scenario: A sync signed with the wrong kit key is refused as unauthenticated
    Given the enterprise has bound the application to its purchase
    When the marketplace sends the tenantSync again signed with the wrong kit key
    Then the merchant refuses the sync with resultCode "000001"

  @recommended
  Scenario: A sync signed with the basic interfaces' access key is refused
    Given the enterprise has bound the application to its purchase
    When the marketplace sends the tenantSync again signed with the basic interfaces' access key
    Then the merchant refuses the sync

  @recommended
  Scenario: A sync signed 120 seconds ago is refused
    Given the enterprise has bound the application to its purchase
    When the marketplace sends the tenantSync again signed 120 seconds ago
    Then the merchant refuses the sync

  @recommended
  Scenario: A replayed sync is refused
    Given the enterprise has bound the application to its purchase
    When the marketplace sends the tenantSync again
    Then the merchant accepts the sync
    When the same request is sent again unchanged
    Then the merchant refuses the sync

  @required
  Scenario: A clientSecret the merchant cannot decrypt is refused
    Given the enterprise has bound the application to its purchase
    When the marketplace sends the applicationSync again with a clientSecret the merchant's private key cannot decrypt
    Then the merchant refuses the sync

  @recommended
  Scenario: A clientSecret the merchant cannot decrypt is answered 000101
    Given the enterprise has bound the application to its purchase
    When the marketplace sends the applicationSync again with a clientSecret the merchant's private key cannot decrypt
    Then the merchant refuses the sync with resultCode "000101"

  @required
  Scenario: Every sync of a binding sent again is acknowledged
    Given the enterprise has a user authorised for the application
    And the enterprise has bound the application to its purchase
    When the enterprise adds a department
    And the marketplace sends every sync of the binding again
    Then the merchant accepts each of them

  @required
  Scenario: Deletes sent again are acknowledged
    Given the enterprise has a user authorised for the application
    And the enterprise has bound the application to its purchase
    When the enterprise removes the user
    And the enterprise unbinds the application
    Then the merchant acknowledges every sync
    When the marketplace sends the deletes of the binding again
    Then the merchant accepts each of them

  @required
  Scenario: A delete for an enterprise the merchant never heard of is acknowledged
    When the marketplace sends a tenantSync deleting an enterprise the merchant never heard of
    Then the merchant accepts the sync
