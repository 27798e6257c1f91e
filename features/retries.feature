Feature: A merchant that is down
  When a purchase callback fails, the marketplace tries again 1, 2 and 3
  hours after the first attempt, each time with a new businessId, and sends
  the merchant a failure notice for every failed attempt. After the attempt
  at 3 hours it gives up: the order fails, is unsubscribed, and a final
  notice says so (callbacks.md §9, §12). These hours pass on the
  marketplace's clock in milliseconds.

  @required
  Scenario: A merchant down for 2 hours gets the purchase on the retry 2 hours later
    Given the merchant's service answers 503 Service Unavailable for the next 2 hours
    When a buyer buys the product
    And 3 hours pass
    Then the purchase call succeeds
    And the purchase was attempted 3 times, the last 2 hours after the first
    And a failure notice was raised for each of the 2 failed attempts

  # The merchant shows its purchases work before it goes down: a service
  # that answers nothing must not pass for losing an order.
  @required
  Scenario: A merchant down for 3 hours loses the order
    Given a buyer has bought the product
    And the merchant's service refuses every connection
    When the buyer buys the product again
    And 3 hours pass
    Then the order has failed and was unsubscribed
    And the purchase was attempted 4 times, the last 3 hours after the first
    And a final failure notice says ORDER_FAILED_UNSUBSCRIBED after 4 attempts

  # The marketplace waits 20 s for an answer (callbacks.md §8). So that
  # this scenario does not take 20 s, its first attempt is given 0.1 s,
  # and kgsim's proxy holds the merchant's answer until the marketplace
  # has stopped waiting: to the merchant, the marketplace hung up.
  @required
  Scenario: A purchase answered too late is acknowledged on the retry with the same instance
    When a buyer buys the product and the merchant's answer to the first attempt comes after the marketplace stopped waiting
    And 1 hour passes
    Then the retry of the purchase is acknowledged with the instance of the late answer
    And the order is completed
