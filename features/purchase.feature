Feature: A new purchase
  When a buyer pays, the marketplace calls the production interface with
  newInstance and the merchant answers with the instance it created
  (callbacks.md §5.1, §5.8).

  @required
  Scenario: A new purchase is provisioned
    Given a buyer has bought the product
    Then the purchase is acknowledged
