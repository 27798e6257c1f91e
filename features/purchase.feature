Feature: A new purchase
  When a buyer pays, the marketplace calls the merchant's production
  interface with newInstance. The merchant creates the instance and answers
  with its instanceId, in V1 also with the buyer's access data (appInfo).
  In V2 the access data is read with queryInstance, which the marketplace
  calls whenever the buyer opens the resource details (callbacks.md §2.1,
  §5.1, §5.8, §5.9, §8).

  @required
  Scenario: A purchase is acknowledged with its instanceId
    When a buyer buys the product
    Then the purchase call succeeds
    And the answer has a non-empty "instanceId" of at most 64 characters

  @required @v1
  Scenario: A V1 purchase answer carries the buyer's access data
    When a buyer buys the product
    Then the purchase call succeeds
    And the answer has a non-empty "appInfo.frontEndUrl" of at most 512 characters

  # V1 sends the purchase's newInstance again, once, with a new businessId,
  # whenever the buyer opens the resource details (callbacks.md §10).
  @required @v1
  Scenario: The purchase the resource details send again names the same instance
    Given a buyer has bought the product
    When the buyer opens the resource details
    Then the purchase sent again from the resource details is acknowledged with the same instance

  @required @v2
  Scenario: The buyer's resource details show the instance
    Given a buyer has bought the product
    When the buyer opens the resource details
    Then the query call succeeds
    And the answer lists the instance with a non-empty "appInfo.frontEndUrl"

  @required @v2
  Scenario: An asynchronous purchase is finished through queryInstance
    When a buyer buys the product
    Then the merchant answers the purchase with resultCode "000000" or "000004" and an instanceId
    And once accepted for asynchronous provisioning, the instance's access data comes through queryInstance within 3 hours

  @required
  Scenario: Unsubscribing releases the instance
    Given a buyer has bought the product
    When the buyer unsubscribes
    Then the release call succeeds
