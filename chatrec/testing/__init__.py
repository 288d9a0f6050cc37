"""Loopback stand-ins and small fixtures shared by the test suite and the benchmarks.

Real servers speaking real protocols (Slack's Web API and Socket Mode, OpenAI-compatible LLM
servers, llama.cpp), model personas, a small real index, and the grounding checks that tests and
``chatrec bench llm`` apply to replies. The product never imports this package (a test checks).
"""
