"""Every prompt chatrec sends to an LLM, in one place (the Chat-Rec prompt constructor).

Templates build plain ``Prompt`` objects (no LLM library needed), keep user text inside
``<user_data>`` tags as data, and fit a token budget by cutting history and candidate lists.
"""

from chatrec.prompts.base import Message, Prompt, TokenEstimator
from chatrec.prompts.phrase import phrase_prompt
from chatrec.prompts.rerank import rerank_prompt
from chatrec.prompts.schemas import LLMReading, RankedPick, RerankResult
from chatrec.prompts.summarize import item_summary_prompt, user_summary_prompt
from chatrec.prompts.understand import understand_prompt

__all__ = [
    "LLMReading", "Message", "Prompt", "RankedPick", "RerankResult", "TokenEstimator",
    "item_summary_prompt", "phrase_prompt", "rerank_prompt", "understand_prompt",
    "user_summary_prompt",
]
