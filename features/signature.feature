Feature: Calls the marketplace did not sign
  Only the marketplace and the merchant know the access key. The merchant
  checks every call's signature (V1 authToken, V2 signature with its
  timestamp and nonce) before acting, and refuses what the marketplace did
  not sign, or anyone could create, renew or release its instances. The
  documented answer to a call that fails authentication is resultCode
  000001; any answer but a success is a refusal, provided the merchant
  accepts the same call signed as it should be (callbacks.md §3.2, §4.1,
  §4.2, §4.5, §7, §13). The purchase calls are built for orders of their
  own: these checks need no purchase the merchant acknowledged. Refusing a
  replayed call (§4.5: merchants "may" cache nonces) and a V1 call an hour
  old (§3.2 gives V1 no freshness window) is informational: reported,
  never counted.

  @required
  Scenario: A purchase signed with the wrong key is refused
    When the marketplace sends a purchase for a new order signed with the wrong key
    Then the merchant refuses the call

  @recommended
  Scenario: A purchase signed with the wrong key is refused as unauthenticated
    When the marketplace sends a purchase for a new order signed with the wrong key
    Then the merchant refuses the call with resultCode "000001"

  @required
  Scenario: A release signed with the wrong key is refused
    Given a buyer has bought the product
    When the buyer unsubscribes
    And the marketplace sends the release again signed with the wrong key
    Then the merchant refuses the call

  @required @v2
  Scenario: A call signed 120 seconds ago is refused
    When the marketplace sends a purchase for a new order signed 120 seconds ago
    Then the merchant refuses the call

  @recommended @v2
  Scenario: A call signed 120 seconds ago is refused as unauthenticated
    When the marketplace sends a purchase for a new order signed 120 seconds ago
    Then the merchant refuses the call with resultCode "000001"

  @required @v2
  Scenario: A call signed 60 seconds ago is still accepted
    When the marketplace sends a purchase for a new order signed 60 seconds ago
    Then the merchant accepts the call

  @recommended @v2
  Scenario: A call signed 120 seconds ahead is refused
    When the marketplace sends a purchase for a new order signed 120 seconds ahead
    Then the merchant refuses the call

  @informational @v2
  Scenario: A replayed call is refused
    When the marketplace sends a purchase for a new order
    Then the merchant accepts the call
    When the same request is sent again unchanged
    Then the merchant refuses the call

  @informational @v1
  Scenario: A V1 call signed an hour ago is refused
    When the marketplace sends a purchase for a new order signed 3600 seconds ago
    Then the merchant refuses the call

  @required @v2
  Scenario Outline: A call without its <parameter> is refused
    When the marketplace sends a purchase for a new order without the "<parameter>" parameter
    Then the merchant refuses the call

    Examples:
      | parameter |
      | signature |
      | timestamp |
      | nonce     |

  @required @v1
  Scenario Outline: A V1 call without its <parameter> is refused
    When the marketplace sends a purchase for a new order without the "<parameter>" parameter
    Then the merchant refuses the call

    Examples:
      | parameter |
      | authToken |
      | timeStamp |

  # The marketplace never sends a call without its orderId, and the docs
  # require no refusal of one (callbacks.md §13): recommended.
  @recommended
  Scenario: A call without its orderId is refused
    When the marketplace sends a purchase for a new order without the "orderId" parameter
    Then the merchant refuses the call

  @recommended
  Scenario Outline: A call without its <parameter> is refused with the documented code
    When the marketplace sends a purchase for a new order without the "<parameter>" parameter
    Then the merchant refuses the call with resultCode "<code>"

    @v2
    Examples: V2
      | parameter | code   |
      | signature | 000001 |
      | timestamp | 000001 |
      | nonce     | 000001 |
      | orderId   | 000002 |

    @v1
    Examples: V1
      | parameter | code   |
      | authToken | 000001 |
      | timeStamp | 000001 |
      | orderId   | 000002 |
