Feature: How the merchant answers
  The marketplace counts a call as failed when its answer is late, is not
  HTTP 200, is not declared as application/json, is not a JSON object with
  a string resultCode, or, in V1, lacks a Body-Sign over the exact bytes of
  the body. It also warns about answers that are slow, lack a resultMsg or
  carry Chinese outside memo. The buyer's account in appInfo is encrypted
  with the variant the answer's encryptType names (callbacks.md §3.4, §4.6,
  §5.1, §6, §8).

  @required
  Scenario: Answers come within the marketplace's time limit
    Given a buyer has bought the product
    When the buyer unsubscribes
    Then every answer came within the marketplace's time limit

  @recommended
  Scenario: Answers come within 5 seconds
    Given a buyer has bought the product
    When the buyer unsubscribes
    Then every answer came within the recommended time

  @required
  Scenario: Answers are JSON objects declared as application/json
    Given a buyer has bought the product
    When the buyer unsubscribes
    Then every answer is a JSON object with a string resultCode, declared as application/json

  @required @v1
  Scenario: V1 answers carry a Body-Sign over the exact bytes sent
    Given a buyer has bought the product
    When the buyer unsubscribes
    Then every answer carries a Body-Sign over the exact bytes of its body

  @required @v2
  Scenario: A V2 answer's Body-Sign, when there is one, covers the exact bytes sent
    Given a buyer has bought the product
    When the buyer opens the resource details
    And the buyer unsubscribes
    Then every answer that carries a Body-Sign has it over the exact bytes of its body

  @recommended @v2
  Scenario: V2 answers carry a Body-Sign
    Given a buyer has bought the product
    When the buyer unsubscribes
    Then every answer carries a Body-Sign

  @recommended
  Scenario: Answers carry a resultMsg
    Given a buyer has bought the product
    When the buyer unsubscribes
    Then every answer carries a resultMsg

  @recommended
  Scenario: Only memo carries non-ASCII text
    Given a buyer has bought the product
    When the buyer unsubscribes
    Then no answer carries non-ASCII text outside memo

  @required
  Scenario: The buyer's account decrypts with the declared encryptType
    Given a buyer has bought the product
    When the marketplace reads the instance's access data
    Then the encrypted account in the access data decrypts with the declared encryptType

  @recommended
  Scenario: The production interface is served over https
    Then the production interface is served over https

  @recommended
  Scenario: The production interface is reached by a domain name
    Then the production interface is reached by a domain name
