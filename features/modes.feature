Feature: Checks of one charging mode
  These run only for the charging modes and kinds the merchant declares
  (callbacks.md §13): on-demand and package products report usage in
  queryInstance (§2.2, §5.9); License products return the same License for
  the same request (§5.16, §5.17, §10).

  @required @on-demand
  Scenario: queryInstance reports an on-demand instance's usage
    Given a buyer has bought the product
    When the buyer opens the resource details
    Then the query call succeeds
    And the answer lists the instance's usage

  @required @package
  Scenario: queryInstance reports a package's usage
    Given a buyer has bought the product
    When the buyer opens the resource details
    Then the query call succeeds
    And the answer lists the instance's usage

  @required @license @v1
  Scenario: getLicense for the same order returns the same License
    Given a buyer has bought the product
    When the marketplace sends the purchase again
    Then the merchant accepts the call
    And the answer's "license" is the same as the purchase call's

  @required @license @v2
  Scenario: The same License request gets the same License
    Given a buyer has bought the product
    When the buyer requests a License
    Then the License call is answered with resultCode "000000" or "000004"
    When the marketplace sends the License again
    Then the merchant accepts the call
    And the answer's "license" is the same as the License call's
