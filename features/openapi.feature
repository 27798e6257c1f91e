@open-api
Feature: The merchant's calls to the marketplace's open APIs
  These run when the certification serves the open APIs (kgsim certify
  --open-api-addr with the seller's --ak and --sk) and the merchant calls
  them there: its marketplace API base set to that address, its calls
  signed with that AK/SK (open-api.md §2). The scenario's marketplace
  judges each call as the marketplace does; the report shows each with its
  verdict, and a refused signature with the canonical request and string
  to sign kgsim computed and the likely cause.

  @required @v2
  Scenario: A V2 purchase is provisioned from the order query
    When a buyer buys the product
    Then the merchant queried the order it was sent
    And the purchase call succeeds

  @required
  Scenario Outline: The usage the merchant pushes is accepted (<product>)
    Given a buyer has bought the product
    When the merchant pushes usage for the instance
    Then every usage push for the instance is accepted

    @on-demand
    Examples:
      | product           |
      | on-demand product |

    @package
    Examples:
      | product         |
      | package product |

  @required @license @license-software
  Scenario: The License software activates a code and checks it
    Given a buyer has bought the product
    And the buyer has received a License code for the purchase
    When the buyer enters the code in the merchant's License software
    Then the License software activated the code and checked it with the heartbeat
