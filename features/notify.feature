Feature: The generic order notification
  A product integrated through the generic order notification (通用接口)
  is not sent newInstance: after payment the marketplace sends orderNotify
  with the order's IDs, signed with the key the seller center binds to the
  generic interface, a key of its own, and retries it as it retries
  newInstance. The merchant acknowledges it with resultCode 000000 and
  reads the order through the order query; nothing else is sent for such
  a product (callbacks.md §5.15, §9.2). Run when the merchant has such a
  product (kgsim certify --catalogue with an interfaceType generic
  product, or --order-notify-key).

  @required @v2 @order-notify
  Scenario: An order notification is acknowledged
    When a buyer buys the product
    Then the order notification call succeeds and completes the order

  @required @v2 @order-notify
  Scenario: An order notification sent again is acknowledged again
    When a buyer buys the product
    And the marketplace sends the order notification again
    Then the merchant accepts the call

  @required @v2 @order-notify
  Scenario: An order notification signed with the basic interfaces' access key is refused
    When a buyer buys the product
    And the marketplace sends the order notification again signed with the basic interfaces' access key
    Then the merchant refuses the call with resultCode "000001"
