Feature: Calls repeated
  The marketplace sends a call again when an attempt failed (each retry
  with a new businessId), when the buyer opens the resource details (V1
  sends newInstance again), and whenever it cannot be sure the merchant
  got it, so two deliveries of one purchase may overlap: the second
  arrives while the merchant is still processing the first. A merchant
  answers a repeated call as it answered the first and never does the
  work twice; different orders never share an instance (callbacks.md
  §2.4, §5.4, §5.5, §9.2, §10).

  @required
  Scenario: newInstance sent again for the same order returns the same instance
    Given a buyer has bought the product
    When the marketplace sends the purchase again
    Then the merchant accepts the call
    And the answer's "instanceId" is the same as the purchase call's

  @required
  Scenario: Two overlapping deliveries of one purchase yield one instance
    When the marketplace delivers a new purchase twice, the second while the merchant is still processing the first
    Then both deliveries are acknowledged with the same instance

  # Calls have no ordering (callbacks.md §8 notes): an earlier call of an
  # instance can arrive after a later one, as the V1 newInstance sent
  # again when the buyer opens the resource details of an expired
  # instance, or an attempt a marketplace node repeats late.
  @required @period
  Scenario: A purchase arriving after its instance was frozen names the same instance
    Given a buyer has bought the product
    When the subscription period ends
    Then the freeze call succeeds
    When the marketplace sends the purchase again
    Then the merchant accepts the call
    And the answer's "instanceId" is the same as the purchase call's

  # A delivery can be held on its way and arrive after a fresher one was
  # answered; within the 60 s a V2 timestamp is good for (§4.1), and
  # always in V1 (§3.2), it is a call like any other.
  @required
  Scenario: A purchase delivery delayed on its way is acknowledged with the same instance
    Given a buyer has bought the product
    When the marketplace sends the purchase again, delayed 40 seconds on its way
    Then the merchant accepts the delayed delivery with the purchase's instance

  @required
  Scenario: Different orders get different instances
    Given a buyer has bought the product
    When the buyer buys the product again
    Then the two purchases have different instanceIds

  @required
  Scenario: Releasing an instance twice succeeds both times
    Given a buyer has bought the product
    When the buyer unsubscribes
    Then the release call succeeds
    When the marketplace sends the release again
    Then the merchant accepts the call

  @required @period
  Scenario: A renewal sent twice succeeds both times
    Given a buyer has bought the product
    When the buyer renews for 1 period
    Then the renewal call succeeds
    When the marketplace sends the renewal again
    Then the merchant accepts the call

  @required @period @upgrade
  Scenario: An upgrade sent twice succeeds both times
    Given a buyer has bought the product
    When the buyer upgrades to a quantity of 5
    Then the upgrade call succeeds
    When the marketplace sends the upgrade again
    Then the merchant accepts the call

  @required @on-demand
  Scenario: One on-demand order for two specifications gets two instances
    Given a buyer has bought the product
    When the marketplace sends a purchase for the same order and another specification
    Then the merchant accepts the call
    And the answer's "instanceId" differs from the purchase call's
    When the marketplace sends that call again with a new businessId
    Then the merchant accepts the call
    And the answer's "instanceId" is the same as the previous answer's
