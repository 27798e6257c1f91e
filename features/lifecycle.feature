Feature: Renewal, trial, upgrade, freezing and release
  After the purchase the marketplace tells the merchant about everything
  that changes the instance: a renewal or a trial turned formal
  (refreshInstance), an upgrade, a freeze at expiry or for a violation and
  the unfreeze that lifts it, the release when the buyer unsubscribes or the
  retention period after expiry ends. The merchant acknowledges each with
  resultCode 000000 (callbacks.md §2, §5.2–§5.6, §5.10–§5.13).

  @required @period
  Scenario: A renewal is acknowledged
    Given a buyer has bought the product
    When the buyer renews for 1 period
    Then the renewal call succeeds
    And the order is completed

  @required @period
  Scenario: Unsubscribing a renewal period that has not started is acknowledged
    Given a buyer has bought the product
    When the buyer renews for 2 periods
    And the buyer unsubscribes the renewal
    Then the renewal call succeeds

  @required @trial
  Scenario: A trial turned formal is acknowledged
    Given a buyer has bought a trial of the product
    When the buyer turns the trial formal
    Then the conversion call succeeds

  @required @period @upgrade
  Scenario: An upgrade is acknowledged
    Given a buyer has bought the product
    When the buyer upgrades to a quantity of 5
    Then the upgrade call succeeds
    And the order is completed

  # V1 periodic products must implement newInstance, refreshInstance,
  # expireInstance and releaseInstance (callbacks.md §2.1); instanceStatus
  # is required of on-demand and package products, and recommended for
  # periodic ones, for which the pages disagree (§5.6).
  Scenario Outline: A violation freezes the instance and lifting it unfreezes it (<product>)
    Given a buyer has bought the product
    When the marketplace freezes the instance for a violation
    Then the freeze call succeeds
    And where the merchant reports the instance's state, it is frozen
    When the marketplace lifts the violation
    Then the unfreeze call succeeds
    And where the merchant reports the instance's state, it is in use

    @required @period @v2
    Examples:
      | product          |
      | periodic product |

    @recommended @period @v1
    Examples: V1
      | product          |
      | periodic product |

    @required @on-demand
    Examples:
      | product           |
      | on-demand product |

    @required @package
    Examples:
      | product         |
      | package product |

  @required @period @v2
  Scenario: Expiry freezes the instance and a renewal unfreezes it
    Given a buyer has bought the product
    When the subscription period ends
    Then the freeze call succeeds
    When the buyer renews for 1 period
    Then the renewal call succeeds
    And the unfreeze call succeeds

  @required @period @v1
  Scenario: Expiry freezes a V1 instance and a renewal renews it
    Given a buyer has bought the product
    When the subscription period ends
    Then the freeze call succeeds
    When the buyer renews for 1 period
    Then the renewal call succeeds

  @recommended @period @v1
  Scenario: A renewal after expiry unfreezes a V1 instance
    Given a buyer has bought the product
    When the subscription period ends
    And the buyer renews for 1 period
    Then the unfreeze call succeeds

  @required @period
  Scenario: An instance not renewed is released after the retention period
    Given a buyer has bought the product
    When the subscription period ends
    And 15 days pass
    Then the freeze call succeeds
    And the release call succeeds

  # changeInstanceCheck is V2's, asked before a renewal that changes the
  # specification; upgrades are optional, so it is checked under
  # --modes upgrade (callbacks.md §2.1, §5.14).
  @required @v2 @period @upgrade
  Scenario: A renewal that changes the specification is allowed, then applied
    Given a buyer has bought the product
    When the buyer renews for 1 period changing to a quantity of 5
    Then the change check call succeeds
    And the renewal call succeeds
    And the order is completed

  @required @v2 @period @upgrade
  Scenario: A change check of an unknown instance is refused
    When the marketplace sends a change check for an instance the merchant never created
    Then the merchant refuses the call

  @required @v2
  Scenario: A query of two instances lists each of them
    Given a buyer has bought the product
    When the buyer buys the product again
    And the marketplace queries both instances in one call
    Then the answer lists each of the two instances with a non-empty "appInfo.frontEndUrl"
