Feature: Calls about an instance the merchant does not know
  A call may name an instance the merchant never created or has released.
  The merchant must not pretend to have renewed or frozen it: the documented
  answer is resultCode 000003. A release of an unknown instance may be
  answered 000000 or 000003 (callbacks.md §7, §15 Q3).

  @required
  Scenario Outline: A <call> of an unknown instance is refused
    When the marketplace sends a <call> for an instance the merchant never created
    Then the merchant refuses the call

    Examples:
      | call    |
      | freeze  |

    @period
    Examples: periodic products
      | call    |
      | renewal |

  @recommended
  Scenario Outline: A <call> of an unknown instance is answered 000003
    When the marketplace sends a <call> for an instance the merchant never created
    Then the merchant refuses the call with resultCode "000003"

    Examples:
      | call    |
      | freeze  |

    @period
    Examples: periodic products
      | call    |
      | renewal |

  @recommended
  Scenario: A release of an unknown instance is answered 000000 or 000003
    When the marketplace sends a release for an instance the merchant never created
    Then the merchant answers the call with resultCode "000000" or "000003"
